// layernorm.h — LayerNorm over the last dim (CPU reference; CUDA: layernorm.cu).
// Backward functions accumulate into every gradient they are given (null = not needed).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// x, y: (rows, n); w, b: (n,); mean, rstd: (rows,) saved for backward.
//   y = (x - mean) * rstd * w + b,   rstd = 1 / sqrt(var + eps),  var biased (divide by n)
void layernorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           int64_t rows, int64_t n, float eps);
// Per row, with xhat = (x - mean) * rstd and g = dy * w:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   dw += dy * xhat,   db += dy
void layernorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t rows, int64_t n);

// the CUDA versions (kernels/layernorm.cu)
VSD_LAUNCHERS(
    void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           int64_t rows, int64_t n, float eps);
    void layernorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t rows, int64_t n);
)

}  // namespace vsd
