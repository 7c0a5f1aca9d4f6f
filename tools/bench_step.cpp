// bench_step.cpp — one GPO training step, for `make bench` (the CPU) and tools/gpu_check.sh.
//   build/<cfg>/bench_step [reps] [cpu|cuda|emulator] [fp32|tf32|bf16] [cudnn 0|1]
//   prints "B R L ms" (median step time, after a warm-up; on a device each step ends with the
//   read-back of the loss and the gradient norm, so the time is the device's)
// The same step as tools/bench_torch_gpo.py, the reference's way on PyTorch: GPO with the BiGRU
// text encoder at F30K's size (2048-d regions -> 1024, 300-d words over 8,500 words), VSE++
// max-violation hinge, backward, gradient clipping at 2, AdamW. Batch: 128 images of 36 regions,
// captions of 8..20 tokens sorted by length.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../kernels/backend.h"
#include "../src/core/check.h"
#include "../src/nn/losses.h"
#include "../src/nn/vse.h"
#include "../src/train/trainer.h"  // model_input
#include "../src/train/optim.h"
#include "bench_timing.h"

using namespace vsd;

static int body(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    const std::string device = argc > 2 ? argv[2] : "cpu";
    const std::string precision = argc > 3 ? argv[3] : "fp32";
    const Device dev = select_device(device, argc > 4 ? std::atoi(argv[4]) : 0, 0, precision);
    const int64_t B = 128, R = 36, F = 2048, V = 8500;
    ModelConfig mc;
    mc.img_dim = F;
    mc.vocab_size = V;
    Rng rng(0);
    VSEModel model(mc, rng);
    model.train();
    model.to(dev);
    AdamW opt({ParamGroup{model.parameters(), 1.0f, 0.01f}}, 5e-4f);
    std::vector<Tensor> params = model.parameters();
    Batch b;
    b.size = B;
    b.images = Tensor::rand({B, R, F}, rng, 0.0f, 1.0f);
    b.img_lengths = Tensor::from_i64({B}, std::vector<int64_t>(B, R));
    std::vector<int64_t> len(B);
    for (int64_t i = 0; i < B; i++) len[i] = 8 + i % 13;
    std::sort(len.begin(), len.end(), std::greater<int64_t>());
    const int64_t L = len[0];
    std::vector<int64_t> ids(B * L, 0);
    for (int64_t i = 0; i < B; i++)
        for (int64_t t = 0; t < len[i]; t++) ids[i * L + t] = 1 + (int64_t)rng.randint(V - 1);
    b.tokens = Tensor::from_i64({B, L}, ids);
    b.lengths = Tensor::from_i64({B}, len);
    for (int64_t i = 0; i < B; i++) b.img_ids.push_back(i), b.cap_ids.push_back(i);
    b.images = b.images.to(dev);
    auto step = [&] {
        opt.zero_grad();
        auto [v, t] = model.forward(model_input(b));
        const Tensor loss = contrastive_loss(v, t, b.img_ids, 0.2f, true, true);
        backward(loss);
        opt.clip_and_read(params, 2.0f, loss);
        opt.step();
    };
    const double ms = 1e3 * median_seconds(reps, step);
    std::printf("%lld %lld %lld %.1f\n", (long long)B, (long long)R, (long long)L, ms);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
