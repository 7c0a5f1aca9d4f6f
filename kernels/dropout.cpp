// dropout.cpp — dropout as a plain loop: the scale of element i is a hash of (seed, i).
#include "dropout.h"
#include "elementwise_ops.h"


namespace vsd {

void dropout_forward_cpu(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * dropout_scale(seed, i, p);
}

void dropout_backward_cpu(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * dropout_scale(seed, i, p);
}

}  // namespace vsd
