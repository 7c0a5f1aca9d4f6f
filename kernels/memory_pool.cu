/*
A caching device allocator: a training step allocates and frees the same sizes every iteration, and
cudaMalloc/cudaFree are slow (they synchronise the device), so freed blocks are kept and reused.

    alloc(bytes): round up (to 512 B below 1 MiB, to 1 MiB above); reuse a cached block of exactly
                  that size if there is one (a hit), else cudaMalloc a new one (a miss)
    free(p):      keep the block in the cache for the next alloc of its size
    empty_cache:  cudaFree every cached block (e.g. before evaluation of a different size)
    stats:        bytes in use, bytes cached, peak in use, cudaMalloc calls, hits

Compiled for the emulator too (cudaMalloc is then malloc), so CI tests the bookkeeping.
Not thread-safe: one pool per process, used from the training thread.
*/
#include <map>
#include <unordered_map>
#include <vector>

#include "common.cuh"
#include "memory_pool.h"

namespace vsd {
namespace VSD_KNS {

namespace {
struct Pool {
    std::unordered_map<void*, size_t> live;        // block -> rounded size
    std::map<size_t, std::vector<void*>> cached;   // rounded size -> free blocks
    PoolStats st;
    bool poison = false;  // fill new blocks with 0xFF (tests)
};
Pool& pool() {
    static Pool p;
    return p;
}
size_t round_size(size_t b) {
    const size_t small = 512, large = 1 << 20;
    if (b == 0) b = 1;
    return b < large ? (b + small - 1) / small * small : (b + large - 1) / large * large;
}
}  // namespace

void* device_malloc(size_t bytes) {
    void* p = nullptr;
    VSD_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}
void device_free(void* p) { VSD_CUDA_CHECK(cudaFree(p)); }
void copy_to_device(void* dst, const void* src, size_t bytes) {
    pool().st.h2d++;
    VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_on_device(void* dst, const void* src, size_t bytes) {
    pool().st.d2d++;
    if (bytes) VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void device_zero(void* p, size_t bytes) {
    pool().st.memsets++;
    if (bytes) VSD_CUDA_CHECK(cudaMemset(p, 0, bytes));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
    pool().st.d2h++;
    VSD_CUDA_CHECK(cudaDeviceSynchronize());
    VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void* pool_alloc(size_t bytes) {
    Pool& p = pool();
    const size_t r = round_size(bytes);
    void* ptr = nullptr;
    auto it = p.cached.find(r);
    if (it != p.cached.end() && !it->second.empty()) {
        ptr = it->second.back();
        it->second.pop_back();
        p.st.cached_bytes -= r;
        p.st.hits++;
    } else {
        VSD_CUDA_CHECK(cudaMalloc(&ptr, r));
        p.st.mallocs++;
    }
    p.live[ptr] = r;
    p.st.in_use_bytes += r;
    if (p.st.in_use_bytes > p.st.peak_bytes) p.st.peak_bytes = p.st.in_use_bytes;
    if (p.poison) VSD_CUDA_CHECK(cudaMemset(ptr, 0xFF, r));
    return ptr;
}

void pool_set_poison(bool on) { pool().poison = on; }

void pool_free(void* ptr) {
    if (!ptr) return;
    Pool& p = pool();
    auto it = p.live.find(ptr);
    ENSURE(it != p.live.end(), "pool_free: %p was not allocated by the pool (or was freed twice)", ptr);
    p.cached[it->second].push_back(ptr);
    p.st.in_use_bytes -= it->second;
    p.st.cached_bytes += it->second;
    p.live.erase(it);
}

void pool_empty_cache() {
    Pool& p = pool();
    for (auto& [size, blocks] : p.cached)
        for (void* b : blocks) VSD_CUDA_CHECK(cudaFree(b));
    p.cached.clear();
    p.st.cached_bytes = 0;
}

PoolStats pool_stats() { return pool().st; }

std::string pool_stats_str() {
    PoolStats s = pool_stats();
    return strfmt("device memory pool: %.1f MiB in use (peak %.1f MiB), %.1f MiB cached, %lld cudaMalloc calls, %lld reuses",
                  s.in_use_bytes / 1048576.0, s.peak_bytes / 1048576.0, s.cached_bytes / 1048576.0, (long long)s.mallocs,
                  (long long)s.hits);
}

}  // namespace VSD_KNS
}  // namespace vsd
