// select.h — choosing between values with a broadcast mask (CPU references; CUDA: select.cu).
// Backward functions accumulate into the gradients they are given.
#pragma once
#include <cstdint>

#include "elementwise.h"
#include "launch.h"

namespace vsd {

// masked_fill: out = mask ? value : x, mask broadcast into x's shape (bc.sa: x, bc.sb: mask)
void masked_fill_cpu(float* out, const float* x, const float* mask, float value, const Broadcast& bc);
void masked_fill_backward_cpu(float* dx, const float* dout, const float* mask, const Broadcast& bc);

// where: out = cond ? a : b   (a, b, out same shape; cond broadcast: bc.sb is cond's strides)
void where_cpu(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc);
void where_backward_cpu(float* da, float* db, const float* dout, const float* cond, const Broadcast& bc);

// the CUDA versions (kernels/select.cu)
VSD_LAUNCHERS(
    void masked_fill(float* out, const float* x, const float* mask, float value, const Broadcast& bc);
    void masked_fill_backward(float* dx, const float* dout, const float* mask, const Broadcast& bc);
    void where(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc);
)

}  // namespace vsd
