/*
Zero, or copy, many buffers in one launch.                 CPU reference: kernels/many.cpp

Version (both)
    1  grid (x, buffers): blockIdx.y picks a buffer from the list (passed by value, in the kernel's
       parameter space), and the x blocks cover it with a grid-stride loop. x is sized for the
       largest buffer (at most 4096 blocks, as grid1d), so blocks of a small buffer leave at once.
       copy_many first reads its condition flag from device memory: every thread of a skipped
       copy returns at once.
*/
#include "common.cuh"
#include "many.h"

namespace vsd {
namespace VSD_KNS {

__global__ void zero_many_kernel(ZeroList list) {
    float* p = list.ptr[blockIdx.y];
    const int64_t n = list.n[blockIdx.y];
    VSD_GRID_STRIDE(i, n) p[i] = 0.0f;
}

void zero_many(float* const* ptr, const int64_t* n, int count) {
    for (int first = 0; first < count; first += kZeroManyMax) {
        ZeroList list{};
        int64_t largest = 0;
        for (int b = first; b < count && b - first < kZeroManyMax; b++) {
            list.ptr[list.count] = ptr[b];
            list.n[list.count++] = n[b];
            largest = n[b] > largest ? n[b] : largest;
        }
        if (largest > 0) VSD_LAUNCH(zero_many_kernel, dim3((unsigned)grid1d(largest), (unsigned)list.count), 256, 0, list);
    }
}

__global__ void copy_many_kernel(const float* flag, CopyList list) {
    if (flag && *flag == 0.0f) return;
    uint32_t* d = list.dst[blockIdx.y];
    const uint32_t* src = list.src[blockIdx.y];
    VSD_GRID_STRIDE(i, list.n[blockIdx.y]) d[i] = src[i];
}

void copy_many(const float* flag, void* const* dst, const void* const* src, const int64_t* words, int count) {
    for (int first = 0; first < count; first += kZeroManyMax) {
        CopyList list{};
        int64_t largest = 0;
        for (int b = first; b < count && b - first < kZeroManyMax; b++) {
            list.dst[list.count] = (uint32_t*)dst[b];
            list.src[list.count] = (const uint32_t*)src[b];
            list.n[list.count++] = words[b];
            largest = words[b] > largest ? words[b] : largest;
        }
        if (largest > 0) VSD_LAUNCH(copy_many_kernel, dim3((unsigned)grid1d(largest), (unsigned)list.count), 256, 0, flag, list);
    }
}

}  // namespace VSD_KNS
}  // namespace vsd
