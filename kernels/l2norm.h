// l2norm.h — row-wise L2 normalisation (CPU reference; CUDA: l2norm.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// l2n along the last dim, with the reference's epsilon placement (paper-notes §2, notation):
//   y = x / (||x|| + eps)          x, y: (rows, n); norm: (rows,) = ||x|| saved for backward
void l2norm_forward_cpu(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps);
// d = ||x|| + eps:  dx += dy / d - x * <dy, x> / (d^2 ||x||)      (second term 0 when ||x|| = 0)
void l2norm_backward_cpu(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n,
                         float eps);

// PyTorch's F.normalize, forward only, accumulated in double (for constants such as VSD's
// prototype centroids, normalised once as they load):
//   y = x * (1 / max(||x||, eps))          x, y: (rows, n)
void unit_rows_cpu(float* y, const float* x, int64_t rows, int64_t n, double eps);

// the CUDA versions (kernels/l2norm.cu)
VSD_LAUNCHERS(
    void l2norm_forward(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps, int version);
    void l2norm_backward(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n,
                         float eps);
    void unit_rows(float* y, const float* x, int64_t rows, int64_t n, double eps);
)

}  // namespace vsd
