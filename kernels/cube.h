// cube.h — y = x^3, the worked example of adding an op (src/core/tape.h walks through it).
// This slice is complete and small on purpose: kernels/cube.{h,cpp,cu}, src/ops/cube.cpp,
// tests/ops/cube.cpp, and one line in src/ops/ops.h. Nothing else names it.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// the CPU reference (kernels/cube.cpp)
void cube_forward_cpu(float* y, const float* x, int64_t n);                   // y = x^3
void cube_backward_cpu(float* dx, const float* dy, const float* x, int64_t n);  // dx += 3 x^2 dy

// the CUDA versions (kernels/cube.cu), declared for both builds: the GPU and the emulator
VSD_LAUNCHERS(
    void cube_forward(float* y, const float* x, int64_t n);
    void cube_backward(float* dx, const float* dy, const float* x, int64_t n);
)

}  // namespace vsd
