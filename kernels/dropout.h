// dropout.h — inverted dropout with a counter-based draw (CPU reference; CUDA: dropout.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// y = x * dropout_scale(seed, i, p) (elementwise_ops.h: 0 with probability p, else 1/(1-p), from a
// hash of (seed, i)); backward dx += dy * the same scale, recomputed, not stored. The CPU and the GPU
// therefore drop the same elements, and nothing is drawn on the host.
void dropout_forward_cpu(float* y, const float* x, int64_t n, float p, uint64_t seed);
void dropout_backward_cpu(float* dx, const float* dy, int64_t n, float p, uint64_t seed);

// the CUDA versions (kernels/dropout.cu)
VSD_LAUNCHERS(
    void dropout_forward(float* y, const float* x, int64_t n, float p, uint64_t seed);
    void dropout_backward(float* dx, const float* dy, int64_t n, float p, uint64_t seed);
)

}  // namespace vsd
