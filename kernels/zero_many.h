// zero_many.h — zero many float buffers in one launch (the tape's gradient buffers, src/core/tape.cpp).
//
// Backward allocates a gradient buffer for every activation it reaches, and each must start at 0
// (gradients accumulate, tape.h). One cudaMemset each was a third of a BERT step's launches; the
// tape now allocates the buffers of the next stretch of closures together and zeroes them with one
// call of this. The list travels by value in the kernel's parameters (no upload).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

constexpr int kZeroManyMax = 64;  // buffers per launch (the launcher splits longer lists)
struct ZeroList {
    float* ptr[kZeroManyMax];
    int64_t n[kZeroManyMax];  // elements
    int count;
};

// the CPU reference: ptr[i][0:n[i]] = 0 for every i < count
void zero_many_cpu(float* const* ptr, const int64_t* n, int count);

// the CUDA version (kernels/zero_many.cu): one launch per kZeroManyMax buffers
VSD_LAUNCHERS(
    void zero_many(float* const* ptr, const int64_t* n, int count);
)

}  // namespace vsd
