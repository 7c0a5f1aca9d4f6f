// The caching device allocator (kernels/memory_pool.cu), in the emulator build.
#include "../kernels/memory_pool.h"
#include "helpers.h"

TEST_CASE("memory pool: blocks are reused by size, statistics add up, the cache empties") {
    using namespace vsd::sim;
    pool_empty_cache();
    const PoolStats s0 = pool_stats();
    void* a = pool_alloc(1000);   // rounds to 1024
    void* b = pool_alloc(3 << 20); // rounds to 3 MiB
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes + 1024 + (3u << 20));
    pool_free(a);
    CHECK(pool_stats().cached_bytes == 1024);
    void* c = pool_alloc(600);    // 1024 again: reused, no new cudaMalloc
    CHECK(c == a);
    CHECK(pool_stats().hits == s0.hits + 1);
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    void* d = pool_alloc(2000);   // 2048: a different size, a new block
    CHECK(pool_stats().mallocs == s0.mallocs + 3);
    pool_free(b);
    pool_free(c);
    pool_free(d);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes);
    CHECK(pool_stats().peak_bytes >= 1024 + (3u << 20) + 2048);
    CHECK(pool_stats_str().find("cudaMalloc calls") != std::string::npos);
    pool_empty_cache();
    CHECK(pool_stats().cached_bytes == 0);
    CHECK_THROWS_WITH(pool_free(a), doctest::Contains("was not allocated by the pool"));
}
