/*
A caching device allocator. A training step allocates and frees much the same sizes every
iteration, and cudaMalloc/cudaFree are slow (they synchronise the device), so freed memory is kept
and reused. It is a best-fit allocator over segments, in the manner of PyTorch's:

    segments   memory from cudaMalloc. Requests up to 1 MiB share small segments of 2 MiB; a larger
               request that finds no free block gets a segment of its size rounded up to 2 MiB.
    blocks     a segment is cut into blocks, each free or in use, linked to its neighbours.
    alloc(n)   round n up to 512 B; take the smallest free block of the right kind that fits (best
               fit); if it is larger, split off the rest as a free block (for large blocks only when
               the rest is over 1 MiB, so no slivers). No fit: a new segment. cudaMalloc fails
               (out of memory): release every segment that is wholly free, then try once more.
    free(p)    the block becomes free and merges with free neighbours in its segment, so a step
               with longer captions can reuse, as one block, what a shorter step left in pieces.
    empty_cache  cudaFree every wholly free segment.
    stats      bytes in use (rounded), cached (segments - in use), peak in use, cudaMalloc calls, hits.

(The first version matched exact rounded sizes only: with 12 caption lengths, BERT-base made ~2,200
cudaMalloc calls in 12 steps and cached 4x what it used.) Compiled for the emulator too (cudaMalloc
is then malloc), so CI tests the bookkeeping. Not thread-safe: one pool per process, used from the
training thread.
*/
#include <cstring>
#include <set>
#include <unordered_map>

#include "common.cuh"
#include "launch.h"  // the profiler's per-name counts
#include "memory_pool.h"
#include "../src/core/tensor.h"  // poison_new_memory (VSD_POISON)

namespace vsd {
namespace VSD_KNS {

namespace {
constexpr size_t kRound = 512, kSmall = 1 << 20, kSmallSegment = 2 << 20, kLargeRound = 2 << 20;
constexpr size_t kMid = 10 << 20, kMidSegment = 20 << 20;  // requests of 1..10 MiB share 20 MiB segments

struct Block {
    char* ptr;
    size_t size;
    bool small, free = true;
    Block *prev = nullptr, *next = nullptr;  // neighbours in the same segment
};
struct BySize {  // best fit: the smallest block, then the lowest address
    bool operator()(const Block* a, const Block* b) const { return a->size != b->size ? a->size < b->size : a->ptr < b->ptr; }
};
struct Pool {
    std::unordered_map<void*, Block*> live;    // in use, by address
    std::set<Block*, BySize> free_small, free_large;
    size_t segment_bytes = 0;                  // held from cudaMalloc
    size_t limit = 0;                          // tests: pretend the device has this many bytes (0: no limit)
    PoolStats st;
    bool poison = false;  // fill new blocks with 0xFF (tests)
};
Pool& pool() {
    static Pool p;
    return p;
}
size_t round_up(size_t b, size_t to) { return (b + to - 1) / to * to; }

// block a takes in its right neighbour (free, already out of the free set), which is deleted
void absorb_next(Block* a) {
    Block* n = a->next;
    a->size += n->size;
    a->next = n->next;
    if (n->next) n->next->prev = a;
    delete n;
}

// cudaFree every segment that is one free block; returns the bytes released
size_t release_free_segments(Pool& p) {
    size_t released = 0;
    for (auto* set : {&p.free_small, &p.free_large})
        for (auto it = set->begin(); it != set->end();) {
            Block* b = *it;
            if (b->prev || b->next) { ++it; continue; }
            VSD_CUDA_CHECK(cudaFree(b->ptr));
            p.segment_bytes -= b->size;
            released += b->size;
            it = set->erase(it);
            delete b;
        }
    return released;
}

// a new segment of n bytes; out of memory: release the wholly free segments and try once more
char* new_segment(Pool& p, size_t n, size_t request) {
    for (int attempt = 0; attempt < 2; attempt++) {
        void* ptr = nullptr;
        const bool over = p.limit && p.segment_bytes + n > p.limit;
        if (!over && cudaMalloc(&ptr, n) == cudaSuccess && ptr) {
            p.segment_bytes += n;
            p.st.mallocs++;
            return (char*)ptr;
        }
        (void)cudaGetLastError();  // clear the sticky error of a failed cudaMalloc
        if (attempt == 0 && release_free_segments(p) == 0) break;
    }
    FATAL("device out of memory: a block of %.1f MiB did not fit (in use %.1f MiB, cached %.1f MiB after freeing the "
          "cache). HINT: lower --batch_size, or train on a device with more memory",
          request / 1048576.0, p.st.in_use_bytes / 1048576.0, (p.segment_bytes - p.st.in_use_bytes) / 1048576.0);
}
}  // namespace

void pool_set_limit(size_t bytes) { pool().limit = bytes; }

void* device_malloc(size_t bytes) {
    void* p = nullptr;
    VSD_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}
void device_free(void* p) { VSD_CUDA_CHECK(cudaFree(p)); }
// Uploads go through a ring of page-locked host memory in four quarters: the bytes are copied into
// the ring, and the device copy is queued on the default stream, so the host goes on at once and
// the kernels queued after it still see the data (stream order). Leaving a quarter records an
// event; coming back to it (three quarters of uploads later) waits on that event first, so no
// slot is overwritten while its copy may still be pending.
namespace {
constexpr size_t kRingBytes = 256 << 20, kQuarter = kRingBytes / 4, kSlotAlign = 256;
struct StagingRing {
    char* host = nullptr;
    size_t head = 0, quarter = 0;  // the next free byte, in the current quarter
    cudaEvent_t left[4] = {};
    bool pending[4] = {false, false, false, false};
};
StagingRing& ring() {
    static StagingRing r;
    return r;
}
}  // namespace

void copy_to_device(void* dst, const void* src, size_t bytes) {
    if (device_counters().by_name) device_counters().by_name("(copy host->device)");
    StagingRing& r = ring();
    if (!r.host && bytes <= kQuarter) {
        void* h = nullptr;
        if (cudaHostAlloc(&h, kRingBytes, cudaHostAllocDefault) == cudaSuccess && h) {
            r.host = (char*)h;
            for (cudaEvent_t& e : r.left) VSD_CUDA_CHECK(cudaEventCreate(&e));
        } else {
            (void)cudaGetLastError();  // no page-locked memory: every upload stays synchronous
        }
    }
    if (!r.host || bytes > kQuarter) {  // the plain way: the host waits for the copy
        pool().st.h2d++;
        VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
        return;
    }
    if (r.head + bytes > (r.quarter + 1) * kQuarter) {  // not in the rest of this quarter: the next one
        VSD_CUDA_CHECK(cudaEventRecord(r.left[r.quarter], 0));
        r.pending[r.quarter] = true;
        r.quarter = (r.quarter + 1) % 4;
        r.head = r.quarter * kQuarter;
        if (r.pending[r.quarter]) {
            VSD_CUDA_CHECK(cudaEventSynchronize(r.left[r.quarter]));
            r.pending[r.quarter] = false;
            pool().st.ring_waits++;
        }
    }
    std::memcpy(r.host + r.head, src, bytes);
    VSD_CUDA_CHECK(cudaMemcpyAsync(dst, r.host + r.head, bytes, cudaMemcpyHostToDevice, 0));
    r.head += (bytes + kSlotAlign - 1) / kSlotAlign * kSlotAlign;
    pool().st.h2d_async++;
}
void copy_on_device(void* dst, const void* src, size_t bytes) {
    pool().st.d2d++;
    if (device_counters().by_name) device_counters().by_name("(copy device->device)");
    if (bytes) VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void device_zero(void* p, size_t bytes) {
    pool().st.memsets++;
    if (device_counters().by_name) device_counters().by_name("(memset)");
    if (bytes) VSD_CUDA_CHECK(cudaMemset(p, 0, bytes));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
    pool().st.d2h++;
    if (device_counters().by_name) device_counters().by_name("(copy device->host)");
    VSD_CUDA_CHECK(cudaDeviceSynchronize());
    VSD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void* pool_alloc(size_t bytes) {
    Pool& p = pool();
    const size_t r = round_up(bytes ? bytes : 1, kRound);
    const bool small = r <= kSmall;
    std::set<Block*, BySize>& free_set = small ? p.free_small : p.free_large;
    Block key{nullptr, r, small};
    Block* b = nullptr;
    auto it = free_set.lower_bound(&key);
    if (it != free_set.end()) {  // best fit
        b = *it;
        free_set.erase(it);
        p.st.hits++;
    } else {
        const size_t n = small ? kSmallSegment : r <= kMid ? kMidSegment : round_up(r, kLargeRound);
        b = new Block{new_segment(p, n, r), n, small};
    }
    // split off what this request does not need
    const size_t rest = b->size - r;
    if (small ? rest >= kRound : rest > kSmall) {
        Block* tail = new Block{b->ptr + r, rest, small};
        tail->prev = b;
        tail->next = b->next;
        if (b->next) b->next->prev = tail;
        b->next = tail;
        b->size = r;
        free_set.insert(tail);
    }
    b->free = false;
    p.live[b->ptr] = b;
    p.st.in_use_bytes += b->size;
    p.st.cached_bytes = p.segment_bytes - p.st.in_use_bytes;
    if (p.st.in_use_bytes > p.st.peak_bytes) p.st.peak_bytes = p.st.in_use_bytes;
    if (p.poison || poison_new_memory()) VSD_CUDA_CHECK(cudaMemset(b->ptr, 0xFF, b->size));
    return b->ptr;
}

void pool_set_poison(bool on) { pool().poison = on; }

void pool_free(void* ptr) {
    if (!ptr) return;
    Pool& p = pool();
    auto it = p.live.find(ptr);
    ENSURE(it != p.live.end(), "pool_free: %p was not allocated by the pool (or was freed twice)", ptr);
    Block* b = it->second;
    p.live.erase(it);
    p.st.in_use_bytes -= b->size;
    p.st.cached_bytes = p.segment_bytes - p.st.in_use_bytes;
    std::set<Block*, BySize>& free_set = b->small ? p.free_small : p.free_large;
    b->free = true;
    // merge with free neighbours (they leave the free set while their size changes)
    if (b->next && b->next->free) {
        free_set.erase(b->next);
        absorb_next(b);
    }
    if (b->prev && b->prev->free) {
        b = b->prev;
        free_set.erase(b);
        absorb_next(b);
    }
    free_set.insert(b);
}

void pool_empty_cache() {
    Pool& p = pool();
    release_free_segments(p);
    p.st.cached_bytes = p.segment_bytes - p.st.in_use_bytes;
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
