// reduce.h — sum / mean / max along one dimension (CPU references).
// A tensor reduced along dim d is viewed as (outer, n, inner): outer = product of dims before d,
// n = size of d, inner = product of dims after d. Output is (outer, inner).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// y[o,i] = scale * sum_k x[o,k,i]     (scale = 1 for sum, 1/n for mean)
void sum_dim_forward_cpu(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale);
// dx[o,k,i] += scale * dy[o,i]
void sum_dim_backward_cpu(float* dx, const float* dy, int64_t outer, int64_t n, int64_t inner, float scale);

// y[o,i] = max_k x[o,k,i], idx[o,i] = the first k attaining it (n >= 1)
void max_dim_forward_cpu(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner);
// dx[o, idx[o,i], i] += dy[o,i]   (the gradient goes to the winner only)
void max_dim_backward_cpu(float* dx, const float* dy, const int64_t* idx, int64_t outer, int64_t n, int64_t inner);

VSD_LAUNCHERS(
    // the reduction ladder over rows (inner = 1), versions 1-3 (reduce.cu)
    void rowsum_forward(float* y, const float* x, int64_t rows, int64_t n, float scale, int version);
    // along the middle dim of (outer, n, inner), one thread per output (what sum() and max() run)
    void sum_dim(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale);
    void max_dim(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner);
)

}  // namespace vsd
