/*
The AdamW update on the GPU.                          CPU reference: kernels/adamw.cpp

What it computes
    p = p (1 - lr wd) - lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), m and v updated first

Version
    1  one thread per element, a grid-stride loop.
*/
#include "common.cuh"
#include "adamw.h"

namespace vsd {
namespace VSD_KNS {

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                             float wd, float bc1, float bc2_sqrt) {
    VSD_GRID_STRIDE(i, n) {
        p[i] *= 1.0f - lr * wd;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= (lr / bc1) * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                  float bc1, float bc2_sqrt) {
    if (n > 0) VSD_LAUNCH(adamw_kernel, grid1d(n), 256, 0, p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2_sqrt);
}

}  // namespace VSD_KNS
}  // namespace vsd
