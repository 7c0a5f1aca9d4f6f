// memory_pool.h — raw device memory and the caching allocator (kernels/memory_pool.cu), for both
// builds: on a GPU (vsd::cuda) and in the emulator (vsd::sim, where "device" memory is host memory).
// A Backend (src/core/tensor.h) hands these to the tensors; kernels/backend.cpp wires them up.
#pragma once
#include <string>

#include "launch.h"

namespace vsd {

struct PoolStats {
    size_t in_use_bytes = 0, cached_bytes = 0, peak_bytes = 0;
    int64_t mallocs = 0, hits = 0;
    // copies and memsets through the backend. Host->device copies go through a page-locked
    // staging ring and are queued (h2d_async) unless larger than a quarter of it (h2d, the host
    // waits); device->host copies wait for the device first. ring_waits: times the ring wrapped
    // onto a quarter whose earlier copies had to be waited for (they are long done by then).
    int64_t h2d = 0, h2d_async = 0, ring_waits = 0, d2h = 0, d2d = 0, memsets = 0;
};

VSD_LAUNCHERS(
    void* device_malloc(size_t bytes);
    void device_free(void* p);
    void copy_to_device(void* dst, const void* src, size_t bytes);
    void copy_to_host(void* dst, const void* src, size_t bytes);
    void copy_on_device(void* dst, const void* src, size_t bytes);
    void device_zero(void* p, size_t bytes);
    void* pool_alloc(size_t bytes);
    void pool_free(void* p);
    void pool_empty_cache();
    // tests: every block handed out is first filled with 0xFF bytes (NaN as float, -1 as an
    // integer), so an element a kernel forgets to write cannot pass for a right one
    void pool_set_poison(bool on);
    // tests: the pool behaves as if the device had only this many bytes (0: no limit), so that
    // running out of memory, and the release of the cache it triggers, can be tested anywhere
    void pool_set_limit(size_t bytes);
    PoolStats pool_stats();
    std::string pool_stats_str();
)

}  // namespace vsd
