// bench_gemm.cpp — GFLOP/s of our CPU GEMM (kernels/gemm.cpp) on the shapes that matter.
//
//   build/<cfg>/bench_gemm [reps]      prints one line per shape: M N K, GFLOP/s (median of reps)
//
// FLOPs are counted first (2*M*N*K per product), then one warm-up run, then `reps` timed runs;
// the median is reported. `make bench` runs this beside tools/bench_torch.py and prints the ratio.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../kernels/gemm.h"
#include "../src/core/check.h"
#include "../src/core/rng.h"
#include "bench_timing.h"

using namespace vsd;

static int body(int argc, char** argv) {
    int reps = argc > 1 ? std::atoi(argv[1]) : 7;
    ENSURE(reps > 0, "reps must be positive, got %s", argv[1]);
    struct Shape3 { const char* name; int64_t M, N, K; };
    const Shape3 shapes[] = {
        {"square 1024", 1024, 1024, 1024},
        {"image fc (128*36)x2048->1024", 128 * 36, 1024, 2048},
    };
    std::printf("# ours: %s, %d OpenMP threads\n", gemm_cpu_config(), omp_get_max_threads());
    Rng rng(0);
    for (const Shape3& s : shapes) {
        std::vector<float> A(s.M * s.K), B(s.K * s.N), C(s.M * s.N);
        for (float& v : A) v = rng.uniform(-1, 1);
        for (float& v : B) v = rng.uniform(-1, 1);
        const double flop = 2.0 * s.M * s.N * s.K;
        const double secs = median_seconds(reps, [&] {
            gemm_cpu(false, false, s.M, s.N, s.K, 1.0f, A.data(), s.K, B.data(), s.N, 0.0f, C.data(), s.N);
        });
        std::printf("%lld %lld %lld %.1f %s\n", (long long)s.M, (long long)s.N, (long long)s.K, flop / secs / 1e9,
                    s.name);
    }
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
