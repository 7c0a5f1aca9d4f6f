/*
The padding mask of a batch on the GPU.               CPU reference: kernels/length_mask.cpp

What it computes
    m[b, k] = 1 if k < len[b] else 0: built where the model lives, so no mask crosses from the host

Version
    1  the grid-stride loop of common.cuh, one thread per output element.
*/
#include "common.cuh"
#include "length_mask.h"

namespace vsd {
namespace VSD_KNS {

__global__ void length_mask_kernel(float* m, const int64_t* len, int64_t B, int64_t N) {
    VSD_GRID_STRIDE(i, B * N) m[i] = (i % N) < len[i / N] ? 1.0f : 0.0f;
}

void length_mask(float* m, const int64_t* len, int64_t B, int64_t N) {
    if (B * N > 0) VSD_LAUNCH(length_mask_kernel, grid1d(B * N), 256, 0, m, len, B, N);
}

}  // namespace VSD_KNS
}  // namespace vsd
