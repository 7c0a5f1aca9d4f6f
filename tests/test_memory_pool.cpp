// The caching device allocator (kernels/memory_pool.cu), in the emulator build.
#include "../kernels/memory_pool.h"
#include "helpers.h"

TEST_CASE("memory pool: best fit, splitting, merging, statistics, the cache empties") {
    using namespace vsd::sim;
    pool_empty_cache();
    const PoolStats s0 = pool_stats();  // (other tests' blocks may still be in use)
    const size_t MiB = 1 << 20, base = s0.in_use_bytes;
    void* a = pool_alloc(1000);     // 1024 B, cut from a new small segment of 2 MiB
    void* b = pool_alloc(3 * MiB);  // from a new 20 MiB segment for 1..10 MiB requests; the 17 MiB rest is split off
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    CHECK(pool_stats().in_use_bytes == base + 1024 + 3 * MiB);
    CHECK(pool_stats().cached_bytes == s0.cached_bytes + (2 * MiB - 1024) + 17 * MiB);
    void* a2 = pool_alloc(600);     // 1024 B from the rest of the small segment: no cudaMalloc
    CHECK((char*)a2 == (char*)a + 1024);
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    pool_free(a);
    void* c = pool_alloc(512);      // best fit: a's freed 1024 B block, split into 512 + 512
    CHECK(c == a);
    CHECK(pool_stats().in_use_bytes == base + 512 + 1024 + 3 * MiB);
    pool_free(c);
    pool_free(a2);                  // the small segment merges back into one free block
    pool_free(b);                   // and so does the 20 MiB one
    CHECK(pool_stats().in_use_bytes == base);
    CHECK(pool_stats().cached_bytes == s0.cached_bytes + 22 * MiB);
    // a larger request reuses the merged block, and after it two smaller ones split it
    void* d = pool_alloc(4 * MiB);
    CHECK(d == b);
    pool_free(d);
    void* e = pool_alloc(1536 * 1024);
    void* f = pool_alloc(2 * MiB);
    CHECK(e == b);
    CHECK((char*)f == (char*)b + 1536 * 1024);
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    CHECK(pool_stats().peak_bytes >= base + 4 * MiB);
    CHECK(pool_stats_str().find("cudaMalloc calls") != std::string::npos);
    pool_free(e);
    pool_free(f);
    pool_empty_cache();
    CHECK(pool_stats().cached_bytes == s0.cached_bytes);
    CHECK_THROWS_WITH(pool_free(a), doctest::Contains("was not allocated by the pool"));
}

TEST_CASE("memory pool: varying sizes (a training step's caption lengths) stop allocating and stay compact") {
    using namespace vsd::sim;
    pool_empty_cache();
    const size_t MiB = 1 << 20;
    Rng rng(5);
    const PoolStats s0 = pool_stats();
    int64_t mallocs_late = 0;
    size_t peak_in_use = 0, most_held = 0;
    for (int step = 0; step < 100; step++) {
        // a step: activations whose sizes scale with a caption length of 12..40, held until the end
        const int L = 12 + (int)(rng.uniform(0.0f, 1.0f) * 29);
        std::vector<void*> held;
        for (int t = 0; t < 30; t++) held.push_back(pool_alloc((size_t)(L * (t % 5 + 1)) * 64 * 1024 + t * 1000));
        for (int t = 0; t < 30; t++) held.push_back(pool_alloc(4096 + 64 * L));  // small ones too
        peak_in_use = std::max(peak_in_use, pool_stats().in_use_bytes);
        most_held = std::max(most_held, pool_stats().in_use_bytes + pool_stats().cached_bytes);
        for (void* p : held) pool_free(p);
        if (step == 50) mallocs_late = pool_stats().mallocs;
    }
    // after the first half, new lengths fit in what is cached: (almost) no new segments
    CHECK(pool_stats().mallocs - mallocs_late <= 2);
    CHECK(pool_stats().mallocs - s0.mallocs < 60);
    // what the pool holds stays near the largest step's need (the exact-size pool: 2.4x, 223 cudaMalloc calls)
    CHECK((double)most_held / (double)peak_in_use < 1.3);
    pool_empty_cache();
    CHECK(pool_stats().cached_bytes == 0);
    (void)MiB;
}

TEST_CASE("memory pool: out of memory releases the cache and retries, then fails with a clear error") {
    using namespace vsd::sim;
    pool_empty_cache();
    const size_t MiB = 1 << 20, held = pool_stats().in_use_bytes + pool_stats().cached_bytes;
    pool_set_limit(held + 64 * MiB);  // as if the device had 64 MiB free
    void* a = pool_alloc(24 * MiB);
    void* b = pool_alloc(24 * MiB);
    pool_free(a);
    pool_free(b);
    const size_t cached = pool_stats().cached_bytes;
    CHECK(cached >= 48 * MiB);                     // two free 24 MiB segments
    void* c = pool_alloc(30 * MiB);                // fits neither, and a third segment would pass 64: release, retry
    CHECK(pool_stats().cached_bytes == cached - 48 * MiB);
    CHECK_THROWS_WITH(pool_alloc(40 * MiB), doctest::Contains("device out of memory"));
    pool_free(c);
    pool_set_limit(0);
    pool_empty_cache();
}

TEST_CASE("uploads: queued through the page-locked staging ring, which wraps around its quarters; the data arrive intact") {
    using namespace vsd::sim;
    const PoolStats s0 = pool_stats();
    const size_t MiB = 1 << 20;
    // 40 uploads of 7 MiB: nine fit a 64 MiB quarter, so the ring moves to the next quarter every
    // ninth and comes back to the first after 36 (one wait, for copies long done)
    std::vector<char> host(7 * MiB);
    void* dev = pool_alloc(7 * MiB);
    for (int k = 0; k < 40; k++) {
        for (size_t i = 0; i < host.size(); i += 4096) host[i] = (char)(k + i / 4096);
        copy_to_device(dev, host.data(), host.size());
        host.assign(host.size(), 0);  // the caller may reuse its buffer at once
        std::vector<char> back(7 * MiB);
        copy_to_host(back.data(), dev, back.size());
        bool same = true;
        for (size_t i = 0; i < back.size(); i += 4096) same = same && back[i] == (char)(k + i / 4096);
        CHECK(same);
    }
    CHECK(pool_stats().h2d_async == s0.h2d_async + 40);
    CHECK(pool_stats().ring_waits >= s0.ring_waits + 1);
    CHECK(pool_stats().h2d == s0.h2d);
    pool_free(dev);
    // more than a quarter (64 MiB) does not fit the ring: a plain copy, the host waits
    std::vector<char> big(65 * MiB, 3);
    void* d2 = pool_alloc(big.size());
    copy_to_device(d2, big.data(), big.size());
    CHECK(pool_stats().h2d == s0.h2d + 1);
    pool_free(d2);
    pool_empty_cache();
}
