// cuda_sim.h — a CUDA-on-CPU emulator for our kernels (force-included when a .cu file is compiled
// as plain C++; see kernels/common.cuh and the Makefile).
//
// What it emulates, and how
//   * A launch runs the grid's blocks one after another. The threads of a block are fibers
//     (ucontext): each runs until it reaches __syncthreads, a warp intrinsic, or its end.
//   * __syncthreads is a real barrier: a fiber waits there until every live thread of its block
//     has arrived. If some threads have exited while others wait, that is a bug (a hang or
//     undefined behaviour on a GPU): the launch fails with an error naming the kernel.
//   * Warp intrinsics (__shfl_sync, __shfl_xor_sync, __shfl_down_sync, __ballot_sync,
//     __any_sync, __all_sync, __syncwarp) exchange values in lock-step: every lane of the warp must reach the
//     same intrinsic before any lane continues; a lane that exited is reported.
//   * Between barriers, fibers run one after another, in thread order on one launch and in reverse
//     order on the next. A kernel that forgets a __syncthreads (and so relies on lucky timing)
//     reads a neighbour's slot before it is written in one of the two orders, and fails its parity
//     test; the tests launch every kernel several times.
//   * __shared__ variables are per-block storage (static thread_local: blocks run one at a time on
//     a worker thread). Dynamic shared memory is VSD_DYNAMIC_SHARED(type, name).
//   * Atomics are GCC __atomic builtins; cudaMalloc/Memcpy/Memset/streams/events work on host memory.
#pragma once
#include <cfloat>
#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <functional>

#define VSD_SIM 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static thread_local
#define __launch_bounds__(...)
#define __restrict__ __restrict

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};

namespace vsd_sim {

struct ThreadCtx {  // what a fiber sees as threadIdx / blockIdx / ...
    uint3 tid, bid;
    dim3 bdim, gdim;
    int linear;  // linear thread index inside the block
};
ThreadCtx* cur();  // the running fiber's context

void syncthreads();
// warp exchange: every lane of the calling lane's warp publishes `v`; returns lane `src`'s value
float warp_exchange_f(float v, int src);
int warp_exchange_i(int v, int src);
unsigned warp_ballot(bool pred);
void* dynamic_shared();
// The step profiler's fast mode: launches (and emulated cuBLAS calls) are counted but not run, and
// fresh device memory is zeroed so that what the host reads back stays finite.
void set_count_only(bool on);
bool count_only();

// Launch: runs `body` as grid x block threads. Errors (barrier misuse) throw vsd::Error.
void launch(const char* name, dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body);

}  // namespace vsd_sim

#define threadIdx (vsd_sim::cur()->tid)
#define blockIdx (vsd_sim::cur()->bid)
#define blockDim (vsd_sim::cur()->bdim)
#define gridDim (vsd_sim::cur()->gdim)
#define warpSize 32

inline void __syncthreads() { vsd_sim::syncthreads(); }
inline int vsd_lane() { return vsd_sim::cur()->linear % 32; }
inline float __shfl_sync(unsigned, float v, int src, int width = 32) {
    return vsd_sim::warp_exchange_f(v, (vsd_lane() & ~(width - 1)) + (src & (width - 1)));
}
inline float __shfl_xor_sync(unsigned, float v, int mask, int width = 32) {
    return vsd_sim::warp_exchange_f(v, (vsd_lane() & ~(width - 1)) + ((vsd_lane() ^ mask) & (width - 1)));
}
inline float __shfl_down_sync(unsigned, float v, unsigned delta, int width = 32) {
    int l = vsd_lane(), base = l & ~(width - 1), src = (l & (width - 1)) + (int)delta;
    return vsd_sim::warp_exchange_f(v, src < width ? base + src : l);  // out of range: own value, as CUDA
}
inline int __shfl_sync(unsigned, int v, int src, int width = 32) {
    return vsd_sim::warp_exchange_i(v, (vsd_lane() & ~(width - 1)) + (src & (width - 1)));
}
inline int __shfl_xor_sync(unsigned, int v, int mask, int width = 32) {
    return vsd_sim::warp_exchange_i(v, (vsd_lane() & ~(width - 1)) + ((vsd_lane() ^ mask) & (width - 1)));
}
inline unsigned __ballot_sync(unsigned, int pred) { return vsd_sim::warp_ballot(pred != 0); }
// a warp barrier: every lane must arrive (a ballot is one), so shared-memory writes before it are
// visible to the whole warp after it
inline void __syncwarp(unsigned m = 0xffffffffu) { (void)__ballot_sync(m, 1); }
inline int __any_sync(unsigned m, int pred) { return __ballot_sync(m, pred) != 0; }
inline int __all_sync(unsigned m, int pred) { return __ballot_sync(m, pred) == 0xffffffffu; }

inline float atomicAdd(float* p, float v) {
    float old = *p, next;
    do next = old + v;
    while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old;
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline int atomicMax(int* p, int v) {
    int old = *p;
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
using std::fmaxf;
using std::fminf;

#define VSD_DYNAMIC_SHARED(type, name) type* name = (type*)vsd_sim::dynamic_shared()
#define VSD_LAUNCH(kernel, grid, block, shmem, ...) \
    vsd_sim::launch(#kernel, dim3(grid), dim3(block), (shmem), [&]() { kernel(__VA_ARGS__); })

// ---- the runtime calls our code uses, on host memory ----------------------------------------
typedef int cudaError_t;
typedef void* cudaStream_t;
struct vsd_sim_event { double t; };
typedef vsd_sim_event* cudaEvent_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice, cudaMemcpyHostToHost };
constexpr cudaError_t cudaSuccess = 0;
inline cudaError_t cudaMalloc(void** p, size_t n) {
    *p = n ? (vsd_sim::count_only() ? std::calloc(1, n) : std::malloc(n)) : nullptr;
    return (n && !*p) ? 2 : 0;
}
inline cudaError_t cudaFree(void* p) { std::free(p); return 0; }
inline cudaError_t cudaMemcpy(void* d, const void* s, size_t n, cudaMemcpyKind) { if (n) std::memcpy(d, s, n); return 0; }
inline cudaError_t cudaMemset(void* d, int v, size_t n) { if (n) std::memset(d, v, n); return 0; }
inline cudaError_t cudaDeviceSynchronize() { return 0; }
// asynchronous copies run at once (the emulator has one stream and no concurrency); page-locked
// host memory is plain memory; events are markers with nothing to wait for
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t = nullptr) {
    if (n) std::memcpy(d, s, n);
    return 0;
}
constexpr unsigned cudaHostAllocDefault = 0;
inline cudaError_t cudaHostAlloc(void** p, size_t n, unsigned) {
    *p = n ? std::malloc(n) : nullptr;
    return (n && !*p) ? 2 : 0;
}
inline cudaError_t cudaFreeHost(void* p) { std::free(p); return 0; }
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = new vsd_sim_event{0.0}; return 0; }
inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t = nullptr) { return 0; }
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return 0; }
inline cudaError_t cudaGetLastError() { return 0; }
inline const char* cudaGetErrorString(cudaError_t) { return "emulator error"; }
