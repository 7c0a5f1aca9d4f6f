// many.h — one launch over many buffers: zero them, or copy them.
//
// zero_many: backward allocates a gradient buffer for every activation it reaches, and each must start at 0
// (gradients accumulate, tape.h). One cudaMemset each was a third of a BERT step's launches; the
// tape now allocates the buffers of the next stretch of closures together and zeroes them with one
// call of this.
// copy_many: the trainer's copy of BatchNorm's running statistics before a device step, and their
// restoring when the device skipped the step (a non-finite loss): conditioned on a flag in device
// memory, so the host need not look (src/train/trainer.cpp).
// The lists travel by value in the kernel's parameters (no upload).
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

// copy_many: dst[i][0:n[i]] = src[i][0:n[i]] in 4-byte words (any dtype of 4 or 8 bytes) for every
// i < count, when flag is null or *flag != 0 (flag: device memory)
struct CopyList {
    uint32_t* dst[kZeroManyMax];
    const uint32_t* src[kZeroManyMax];
    int64_t n[kZeroManyMax];  // words
    int count;
};
void copy_many_cpu(const float* flag, void* const* dst, const void* const* src, const int64_t* words, int count);

// the CUDA versions (kernels/many.cu): one launch per kZeroManyMax buffers
VSD_LAUNCHERS(
    void zero_many(float* const* ptr, const int64_t* n, int count);
    void copy_many(const float* flag, void* const* dst, const void* const* src, const int64_t* words, int count);
)

}  // namespace vsd
