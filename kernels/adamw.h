// adamw.h — one AdamW update of a parameter tensor (CPU reference; CUDA: adamw.cu).
// Used by src/train/optim.cpp, which keeps the per-tensor step count t.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// With bc1 = 1 - b1^t and bc2_sqrt = sqrt(1 - b2^t) (computed in double by the caller):
//   p *= 1 - lr wd                                (decoupled weight decay, first)
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   p -= lr / bc1 * m / (sqrt(v) / bc2_sqrt + eps)
void adamw_update_cpu(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                      float wd, double bc1, double bc2_sqrt);

// the CUDA versions (kernels/adamw.cu)
VSD_LAUNCHERS(
    void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2,
                      float eps, float wd, float bc1, float bc2_sqrt);
)

}  // namespace vsd
