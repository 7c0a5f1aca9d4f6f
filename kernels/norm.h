// norm.h — layer norm, batch norm (1-d) and row-wise L2 normalisation (CPU references).
// Backward functions accumulate into every gradient they are given (null = not needed).
#pragma once
#include <cstdint>

namespace vsd {

// LayerNorm over the last dim. x, y: (rows, n); w, b: (n,); mean, rstd: (rows,) saved for backward.
//   y = (x - mean) * rstd * w + b,   rstd = 1 / sqrt(var + eps),  var biased (divide by n)
void layernorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           int64_t rows, int64_t n, float eps);
void layernorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t rows, int64_t n);

// BatchNorm1d over (N, C): statistics per channel c over the N rows.
// training: mean/var from the batch (var biased for normalising); the running statistics move by
//   running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED variance (N/(N-1)),
//   as PyTorch does. eval: mean/var are the running statistics.
// mean, rstd: (C,) the statistics actually used, saved for backward.
void batchnorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           float* running_mean, float* running_var, int64_t N, int64_t C, bool training,
                           float momentum, float eps);
void batchnorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t N, int64_t C, bool training);

// l2n along the last dim, with the reference's epsilon placement (SPEC 2, notation):
//   y = x / (||x|| + eps)          x, y: (rows, n); norm: (rows,) = ||x|| saved for backward
void l2norm_forward_cpu(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps);
// d = ||x|| + eps:  dx += dy / d - x * <dy, x> / (d^2 ||x||)      (second term 0 when ||x|| = 0)
void l2norm_backward_cpu(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n,
                         float eps);

}  // namespace vsd
