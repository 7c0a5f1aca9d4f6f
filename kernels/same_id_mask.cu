/*
The positive pairs of a batch on the GPU.              CPU reference: kernels/same_id_mask.cpp

What it computes
    m[i, j] = 1 if i == j or (repeats and ids[i] == ids[j]), else 0

Version
    1  the grid-stride loop of common.cuh, one thread per pair.
*/
#include "common.cuh"
#include "same_id_mask.h"

namespace vsd {
namespace VSD_KNS {

__global__ void same_id_mask_kernel(float* m, const int64_t* ids, int64_t B, bool repeats) {
    VSD_GRID_STRIDE(e, B * B) {
        const int64_t i = e / B, j = e % B;
        m[e] = (i == j || (repeats && ids[i] == ids[j])) ? 1.0f : 0.0f;
    }
}

void same_id_mask(float* m, const int64_t* ids, int64_t B, bool repeats) {
    if (B > 0) VSD_LAUNCH(same_id_mask_kernel, grid1d(B * B), 256, 0, m, ids, B, repeats);
}

}  // namespace VSD_KNS
}  // namespace vsd
