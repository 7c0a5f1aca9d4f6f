/*
Images to patch rows on the GPU.                           CPU reference: kernels/patchify.cpp

Version
    1  one thread per input element (a grid-stride loop): it reads x in memory order and writes
       its one place in y (forward), or reads that place of dy and adds it to dx (backward).
       Consecutive threads read consecutive columns, which stay in one patch for p columns, so the
       writes come in runs of p contiguous floats.
*/
#include "common.cuh"
#include "patchify.h"

namespace vsd {
namespace VSD_KNS {

__global__ void patchify_forward_kernel(float* y, const float* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    VSD_GRID_STRIDE(i, B * C * H * W) {
        const int64_t q = i % W, r = (i / W) % H, c = (i / (W * H)) % C, b = i / (W * H * C);
        y[patch_index(b, c, r, q, C, H, W, p)] = x[i];
    }
}

__global__ void patchify_backward_kernel(float* dx, const float* dy, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    VSD_GRID_STRIDE(i, B * C * H * W) {
        const int64_t q = i % W, r = (i / W) % H, c = (i / (W * H)) % C, b = i / (W * H * C);
        dx[i] += dy[patch_index(b, c, r, q, C, H, W, p)];
    }
}

void patchify_forward(float* y, const float* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    const int64_t n = B * C * H * W;
    if (n > 0) VSD_LAUNCH(patchify_forward_kernel, grid1d(n), 256, 0, y, x, B, C, H, W, p);
}

void patchify_backward(float* dx, const float* dy, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    const int64_t n = B * C * H * W;
    if (n > 0) VSD_LAUNCH(patchify_backward_kernel, grid1d(n), 256, 0, dx, dy, B, C, H, W, p);
}

}  // namespace VSD_KNS
}  // namespace vsd
