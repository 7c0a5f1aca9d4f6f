// softmax.h — softmax and log-softmax over the last dimension, with an optional mask.
// x, y: (rows, n). mask: (rows, n) of 0/1 or null; 0 removes that position from the row.
// Masked positions output 0 (softmax) or -inf (log_softmax) and receive no gradient.
// A fully masked row outputs all 0 (softmax) / all -inf (log_softmax) instead of NaN.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

void softmax_forward_cpu(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log);
// softmax:      dx += y * (dy - <dy, y>)
// log_softmax:  dx += dy - softmax(x) * sum(dy)        (sums over unmasked positions)
void softmax_backward_cpu(float* dx, const float* dy, const float* y, const float* mask, int64_t rows, int64_t n,
                          bool log);

// the CUDA versions
VSD_LAUNCHERS(
    void softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log, int version);
    void softmax_backward(float* dx, const float* dy, const float* y, const float* mask, int64_t rows, int64_t n,
                          bool log);
)

}  // namespace vsd
