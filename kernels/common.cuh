// common.cuh — what every kernels/*.cu file includes: the seam between the two builds.
//
// A .cu file is compiled twice:
//   * by nvcc, for real GPUs: namespace vsd::cuda, launches with <<<...>>>;
//   * by g++ as plain C++ with kernels/sim/cuda_sim.h force-included (-DVSD_SIM), for the emulator
//     that runs the kernels on the CPU: namespace vsd::sim. The parity tests call the sim build in
//     CI and the cuda build on a GPU, against the CPU references in kernels/*.cpp.
// So kernels use only: VSD_LAUNCH, VSD_DYNAMIC_SHARED, the helpers below, and the CUDA intrinsics
// the emulator implements (see cuda_sim.h).
#pragma once
#include <cstdint>

#ifdef VSD_SIM
#define VSD_KNS sim
#else
#include <cuda_runtime.h>
#define VSD_KNS cuda
#define VSD_DYNAMIC_SHARED(type, name)                    \
    extern __shared__ __align__(16) unsigned char vsd_smem_[]; \
    type* name = reinterpret_cast<type*>(vsd_smem_)
#define VSD_LAUNCH(kernel, grid, block, shmem, ...)         \
    do {                                                    \
        ::vsd::count_launch(#kernel);                       \
        kernel<<<(grid), (block), (shmem)>>>(__VA_ARGS__);  \
        VSD_CUDA_CHECK(cudaGetLastError());                 \
    } while (0)
#endif

#include "../src/core/check.h"

// Every CUDA runtime call is checked with file:line (a no-op success in the emulator).
#define VSD_CUDA_CHECK(call)                                                                         \
    do {                                                                                             \
        cudaError_t e_ = (call);                                                                     \
        if (e_ != cudaSuccess) FATAL("CUDA call %s failed: %s", #call, cudaGetErrorString(e_));     \
    } while (0)

namespace vsd {
namespace VSD_KNS {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The launch shape of the simple kernels: blocks of 256 threads, at most 4096 blocks, and a
// grid-stride loop inside, so any n is covered (`for` every i in [0, n) this thread owns). It is
// the first version of every data-movement kernel (select, gather, shape, dropout, ...): they do
// almost no arithmetic, memory bandwidth bounds them (the bench reports GB/s), and consecutive
// threads touch consecutive outputs, so the writes coalesce. A faster version 2 (vector loads,
// shared-memory transposes) is added when the bench says it pays.
inline int64_t grid1d(int64_t n) { return n < 1 ? 1 : (ceil_div(n, 256) < 4096 ? ceil_div(n, 256) : 4096); }
#define VSD_GRID_STRIDE(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// Sum / max of `v` over the 32 lanes of a warp (butterfly: after 5 steps every lane holds the result).
__device__ inline float warp_reduce_sum(float v) {
    for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}
__device__ inline float warp_reduce_max(float v) {
    for (int off = 16; off > 0; off /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

// <a[0:n], b[0:n]> computed by one warp: lanes take strided elements (coalesced), then reduce.
// Every lane returns the full result.
__device__ inline float warp_dot(const float* a, const float* b, int64_t n, int lane) {
    float s = 0.0f;
    for (int64_t i = lane; i < n; i += 32) s += a[i] * b[i];
    return warp_reduce_sum(s);
}

// Device memory (host memory in the emulator).
inline float* dev_alloc(int64_t n) {
    void* p = nullptr;
    VSD_CUDA_CHECK(cudaMalloc(&p, (size_t)n * sizeof(float) + 4));
    return (float*)p;
}
inline void dev_free(void* p) { VSD_CUDA_CHECK(cudaFree(p)); }
inline void to_device(float* d, const float* h, int64_t n) { VSD_CUDA_CHECK(cudaMemcpy(d, h, n * 4, cudaMemcpyHostToDevice)); }
inline void to_host(float* h, const float* d, int64_t n) { VSD_CUDA_CHECK(cudaMemcpy(h, d, n * 4, cudaMemcpyDeviceToHost)); }

}  // namespace VSD_KNS
}  // namespace vsd
