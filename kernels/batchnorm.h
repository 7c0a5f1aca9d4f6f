// batchnorm.h — BatchNorm1d over (N, C) (CPU reference; CUDA: batchnorm.cu).
// Backward functions accumulate into every gradient they are given (null = not needed).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// Statistics per channel c over the N rows.
// training: mean/var from the batch (var biased for normalising); the running statistics move by
//   running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED variance (N/(N-1)),
//   as PyTorch does. eval: mean/var are the running statistics.
// mean, rstd: (C,) the statistics actually used, saved for backward.
void batchnorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           float* running_mean, float* running_var, int64_t N, int64_t C, bool training,
                           float momentum, float eps);
// training: dx = w rstd (g - mean(g) - xhat mean(g xhat)) over the N rows (layernorm.h's formula,
// taken per channel); eval: the statistics are constants, so dx = w rstd dy.
void batchnorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t N, int64_t C, bool training);

// the CUDA versions (kernels/batchnorm.cu)
VSD_LAUNCHERS(
    void batchnorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           float* rmean, float* rvar, int64_t N, int64_t C, bool training, float momentum, float eps);
    void batchnorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t N, int64_t C, bool training);
)

}  // namespace vsd
