// bench_bert.cpp — bert-base forward throughput (tokens/s) on the CPU, for `make bench`.
//   build/<cfg>/bench_bert [reps]    prints "B L tokens/s" (median of reps, after a warm-up)
// Random weights: speed does not depend on their values.
#include <cstdio>
#include <cstdlib>

#include "../src/core/check.h"
#include "../src/nn/bert.h"
#include "bench_timing.h"

using namespace vsd;

static int body(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    const int64_t B = 32, L = 24;  // a batch of caption-length inputs
    BertConfig cfg;                // bert-base-uncased: 768 / 12 layers / 12 heads / 3072
    Rng rng(0);
    Bert bert(cfg, rng);
    bert.eval();
    Tensor ids = Tensor::empty({B, L}, DType::I64), len = Tensor::empty({B}, DType::I64);
    for (int64_t i = 0; i < B * L; i++) ids.i64()[i] = 1000 + (int64_t)rng.randint(20000);
    for (int64_t b = 0; b < B; b++) len.i64()[b] = L;
    NoGrad ng;
    const double secs = median_seconds(reps, [&] { bert.forward(ids, len); });
    std::printf("%lld %lld %.0f\n", (long long)B, (long long)L, B * L / secs);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
