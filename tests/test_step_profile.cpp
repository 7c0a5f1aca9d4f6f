// The step profiler's counters (kernels/launch.h DeviceCounters, the pool's copy counts), the
// emulator's count-only mode, and tools/step_profile end to end on a small batch.
#include <cstdlib>
#include <fstream>
#include <regex>

#include "../kernels/backend.h"
#include "../kernels/memory_pool.h"
#include "../src/ops/ops.h"
#include "helpers.h"

TEST_CASE("step profiler: launches, copies and memsets are counted; count-only mode counts without running") {
    use_emulated_device(true);
    const DeviceCounters c0 = device_counters();
    const PoolStats p0 = sim::pool_stats();
    Tensor x = T({2, 3}, {-1, 2, -3, 4, -5, 6}).to(Device::CUDA);  // one host->device copy, queued
    CHECK(sim::pool_stats().h2d_async == p0.h2d_async + 1);
    CHECK(sim::pool_stats().h2d == p0.h2d);
    Tensor y = relu(x);                                             // one kernel
    CHECK(device_counters().launches == c0.launches + 1);
    CHECK(y.to_vector() == std::vector<float>{0, 2, 0, 4, 0, 6});   // one device->host copy
    CHECK(sim::pool_stats().d2h == p0.d2h + 1);
    Tensor m = matmul(x, x, false, true);                           // the device GEMM: cuBLAS (version 3)
    CHECK(device_counters().blas == c0.blas + 1);
    (void)m;
    // count only: the launch is counted, its body does not run (a fresh block is zeroed, not written)
    emulator_count_only(true);
    const uint64_t before = device_counters().launches;
    Tensor z = relu(x * 1000.0f);
    emulator_count_only(false);
    CHECK(device_counters().launches == before + 2);
    for (float v : z.to_vector()) CHECK(v != 6000.0f);  // nothing computed
    use_emulated_device(false);
}

TEST_CASE("step_profile: a small run prints the per-step table and the summary line") {
    const std::string dir = temp_dir("step_profile");
    const std::string bin = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/step_profile";  // `make test` builds it
    const std::string log = dir + "/out.txt";
    const int rc = std::system((bin + " --text bigru --batch_size 16 --steps 3 --data " + dir + "/data > " + log + " 2>&1").c_str());
    std::ifstream in(log);
    const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_MESSAGE(rc == 0, out);
    CHECK(out.find("gpo+bigru, B=16, device emulator (count only), 3 steps") != std::string::npos);
    std::smatch m;
    const std::string last = out.substr(out.rfind("launches/step"));
    REQUIRE(std::regex_search(last, m, std::regex(R"(^launches/step (\d+), sync_copies/step (\d+), mallocs/100 steps (\d+), cached/peak (\d+\.\d\d)\n$)")));
    CHECK(std::stoi(m[1]) > 100);  // GPO + BiGRU: hundreds of launches a step today
    CHECK(std::stoi(m[2]) <= 1);   // uploads are queued, and the loss is read back on log steps only
    CHECK(std::stod(m[4]) >= 1.0); // the pool holds at least its peak
}
