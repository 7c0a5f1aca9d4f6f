// The modules' device paths: BERT, the encoders and whole training steps must give on the device
// what they give on the CPU, forward and backward. In CI the "device" is the CUDA emulator (backend.h: use_emulated_device),
// which runs the same kernel sources as the GPU; on a machine with a GPU the same checks run there.
#include <functional>
#include <sstream>

#include "../kernels/backend.h"
#include "../src/nn/bert.h"
#include "../src/nn/encoders.h"
#include "../src/data/json.h"
#include "../src/nn/hrem.h"
#include "helpers.h"

// a 2-layer, 16-wide BERT for the device tests
static BertConfig tiny_bert() {
    BertConfig c;
    c.vocab_size = 20;
    c.hidden = 16;
    c.layers = 2;
    c.heads = 4;
    c.intermediate = 24;
    c.max_positions = 8;
    return c;
}

// The device module's output and every parameter gradient equal the CPU module's.
static void check_same_module(const Module& cpu, const Module& dev, const Tensor& out_cpu, const Tensor& out_dev,
                              double tol = 2e-5) {
    REQUIRE(out_dev.is_cuda());
    CHECK_CLOSE(out_dev.to(Device::CPU), out_cpu, 2e-5, 2e-4);
    auto pc = cpu.named_parameters(), pd = dev.named_parameters();
    for (size_t i = 0; i < pc.size(); i++) {
        CAPTURE(pc[i].first);
        CHECK_CLOSE(pd[i].second.grad_tensor().to(Device::CPU), pc[i].second.grad_tensor(), tol, tol * 10);
    }
}

// The single ops' device paths are tested op by op in tests/ops/ (the generic op test); here the
// modules built from them.

TEST_CASE("device ops: mixing devices is a clear error") {
    TestDevice dev_scope;
    Tensor a = rnd({2, 2}, 1).to(Device::CUDA), b = rnd({2, 2}, 2);
    CHECK_THROWS_WITH(a + b, doctest::Contains("some inputs are on the device and some on the CPU"));
    CHECK_THROWS_WITH(a.index_at(0), doctest::Contains("copy the (2, 2) tensor to the CPU"));
}

TEST_CASE("device ops: a BERT forward and backward equals the CPU's (fused and unfused attention, with dropout)") {
    TestDevice dev_scope;
    for (bool fused : {true, false})
        for (bool dropout : {false, true}) {
            CAPTURE(fused);
            CAPTURE(dropout);
            Rng r1(1), r2(1);
            Bert cpu(tiny_bert(), r1), dev(tiny_bert(), r2);
            REQUIRE(cpu.cfg.dropout > 0.0f);
            dev.to(Device::CUDA);
            dev.fused_attention = fused;  // the device's own attention op; the CPU runs the unfused ops
            Tensor ids = Tensor::from_i64({2, 5}, {2, 7, 9, 3, 0, 2, 11, 3, 0, 0}), len = Tensor::from_i64({2}, {4, 3});
            tape().clear();
            Rng d1(3), d2(3);  // the same dropout draws on both sides
            Tensor h = cpu.forward(ids, len, dropout ? &d1 : nullptr);
            Tensor seed = rnd(h.shape(), 5);
            tape().backward(h, seed);
            Tensor hd = dev.forward(ids, len, dropout ? &d2 : nullptr);
            tape().backward(hd, seed);
            check_same_module(cpu, dev, h, hd);
            CHECK(d1.next_u64() == d2.next_u64());
        }
}

TEST_CASE("fused attention: equals the unfused ops on the CPU, and BERT's fused inference on the device equals the CPU") {
    // the op against matmul / masked softmax / matmul with explicit head permutes
    const int64_t B = 2, L = 5, A = 3, d = 4, H = A * d;
    Tensor q = rnd({B, L, H}, 1), k = rnd({B, L, H}, 2), v = rnd({B, L, H}, 3);
    Tensor keep = T({B, L}, {1, 1, 1, 0, 0, 1, 0, 1, 1, 1});
    auto heads = [&](const Tensor& t) { return permute(reshape(t, {B, L, A, d}), {0, 2, 1, 3}); };
    Tensor km = Tensor::empty({B, A, L, L});
    for (int64_t i = 0; i < km.numel(); i++) km.data()[i] = keep.data()[(i / (A * L * L)) * L + i % L];
    Tensor p = softmax(matmul(heads(q), heads(k), false, true) * 0.5f, km);
    Tensor want = reshape(permute(matmul(p, heads(v)), {0, 2, 1, 3}), {B, L, H});
    CHECK_CLOSE(attention(q, k, v, keep, A), want, 1e-6, 1e-5);
    // BERT under NoGrad on the device takes the fused path; it equals the CPU forward
    TestDevice dev_scope;
    Rng r1(7), r2(7);
    Bert cpu(tiny_bert(), r1), dev(tiny_bert(), r2);
    dev.to(Device::CUDA);
    Tensor ids = Tensor::from_i64({2, 5}, {2, 7, 9, 3, 0, 2, 11, 3, 0, 0}), len = Tensor::from_i64({2}, {4, 3});
    NoGrad ng;
    Tensor h = cpu.forward(ids, len), hd = dev.forward(ids, len);
    CHECK_CLOSE(hd.to(Device::CPU), h, 2e-5, 2e-4);
    CHECK_CLOSE(sentence_embedding(hd, len).to(Device::CPU), sentence_embedding(h, len), 2e-5, 2e-4);  // tools/embed
    dev.fused_attention = false;  // and the unfused device path agrees too
    CHECK_CLOSE(dev.forward(ids, len).to(Device::CPU), h, 2e-5, 2e-4);
}

TEST_CASE("device ops: the HREM image encoder forward and backward equal the CPU's") {
    TestDevice dev_scope;
    HremConfig hc;
    hc.embed = 16;
    hc.heads = 4;
    hc.ffn = 16;
    Rng r1(2), r2(2);
    ImageEncoderHREM cpu(12, hc, r1), dev(12, hc, r2);
    dev.to(Device::CUDA);
    Tensor x = rnd({3, 5, 12}, 3), len = Tensor::from_i64({3}, {5, 1, 3});
    tape().clear();
    Tensor v = cpu.forward(x, len, nullptr);
    Tensor seed = rnd(v.shape(), 4);
    tape().backward(v, seed);
    Tensor vd = dev.forward(x.to(Device::CUDA), len, nullptr);
    tape().backward(vd, seed);
    check_same_module(cpu, dev, v, vd, 5e-5);
    // BatchNorm's running statistics were updated on the device as on the CPU
    CHECK_CLOSE(dev.mlp.bn0.running_var.to(Device::CPU), cpu.mlp.bn0.running_var, 1e-5, 1e-4);
}

TEST_CASE("device ops: GPO's image and BiGRU text encoders, forward and backward, equal the CPU's") {
    TestDevice dev_scope;
    Rng r1(3), r2(3);
    ImageEncoderGPO icpu(10, 8, r1), idev(10, 8, r2);
    idev.to(Device::CUDA);
    Tensor x = rnd({3, 4, 10}, 5), len = Tensor::from_i64({3}, {4, 1, 3});
    tape().clear();
    Tensor v = icpu.forward(x, len);
    Tensor seed = rnd(v.shape(), 6);
    tape().backward(v, seed);
    Tensor vd = idev.forward(x.to(Device::CUDA), len);
    tape().backward(vd, seed);
    check_same_module(icpu, idev, v, vd, 5e-5);
    Rng r3(4), r4(4);
    TextEncoderBiGRU tcpu(12, 5, 8, r3), tdev(12, 5, 8, r4);
    tdev.to(Device::CUDA);
    Tensor ids = Tensor::from_i64({2, 4}, {1, 5, 7, 2, 1, 9, 2, 0}), tl = Tensor::from_i64({2}, {4, 3});
    Tensor u = tcpu.forward(ids, tl);
    tape().backward(u, seed.view_rows(0, 2));
    Tensor ud = tdev.forward(ids, tl);
    tape().backward(ud, seed.view_rows(0, 2));
    check_same_module(tcpu, tdev, u, ud, 5e-5);
}

// ---- training on the device ---------------------------------------------------------------------
#include <fstream>

#include "../src/train/trainer.h"

static std::vector<double> logged_losses(const std::string& run) {
    std::ifstream f(run + "/train.log");
    std::vector<double> out;
    std::string line;
    while (std::getline(f, line)) {
        const size_t at = line.find("| loss ");
        if (at != std::string::npos) out.push_back(std::stod(line.substr(at + 7)));
    }
    return out;
}

// 3 steps of a small GPO, or HREM+VSD⋆ with its relation module from step 2, on small_demo_dataset(.., 64, 32)
static TrainConfig small_device_run(const std::string& data, const std::string& tag, const std::string& model) {
    TrainConfig c = ci_train_config(data, temp_dir(tag));
    c.img_dim = 64;
    c.embed_size = 32;
    c.word_dim = 16;
    c.batch_size = 16;
    c.model = model;
    c.nhead = 4;
    c.warmup = 1;  // HREM: the relation module joins at step 2
    if (model == "hrem") c.vsd = "cpm";  // + the fusion and the prototype loss
    c.validate = false;
    c.max_steps = 3;
    return c;
}

TEST_CASE("training on the device (the GPU, else the emulator) follows the CPU run: GPO, and HREM+VSD with its relation module") {
    const std::string data = small_demo_dataset("device_train", 60, 40, 64, 32);
    for (std::string model : {"gpo", "hrem"}) {
        CAPTURE(model);
        std::vector<double> losses[2];
        std::string runs[2];
        for (int d = 0; d < 2; d++) {
            TrainConfig c = small_device_run(data, "dev_" + model + std::to_string(d), model);
            c.log_step = 1;
            c.device = d ? (cuda_available() ? "cuda" : "emulator") : "cpu";
            train(c);
            use_emulated_device(false);
            losses[d] = logged_losses(c.logger_name);
            runs[d] = c.logger_name;
        }
        REQUIRE(losses[0].size() == 3);
        REQUIRE(losses[1].size() == 3);
        for (int s = 0; s < 3; s++) CHECK(losses[1][s] == doctest::Approx(losses[0][s]).epsilon(1e-3));
        // the device checkpoint evaluates on the CPU like the CPU one (up to float rounding)
        EvalConfig e0, e1;
        e0.checkpoint = runs[0] + "/checkpoint.safetensors";
        e1.checkpoint = runs[1] + "/checkpoint.safetensors";
        e0.progress = e1.progress = false;
        CHECK(std::fabs(evaluate_checkpoint(e1).full.rsum - evaluate_checkpoint(e0).full.rsum) < 5.0);
    }
}

// The same seed gives the same bits on the device: the three runs' traces (every loss term, the
// gradient norm, every parameter's sum and sum of squares, BatchNorm's statistics, per step) are
// byte-identical. In the emulator a block's threads run in the opposite order on alternate
// launches, and one extra launch between the second and third run shifts that alternation, so an
// atomicAdd whose order matters (a float sum) would show as a difference; on a GPU the scheduling
// itself varies.
TEST_CASE("training on the device is deterministic: the same seed gives byte-identical traces") {
    const std::string data = small_demo_dataset("device_det", 60, 40, 64, 32);
    for (std::string model : {"gpo", "hrem"}) {
        CAPTURE(model);
        std::string traces[3];
        for (int run = 0; run < 3; run++) {
            if (run == 2) {  // one launch: the emulator's thread-order alternation shifts by one
                TestDevice scope;
                (void)(rnd({4}, 1).to(Device::CUDA) * 2.0f).to(Device::CPU);
            }
            TrainConfig c = small_device_run(data, "det_" + model + std::to_string(run), model);
            c.device = cuda_available() ? "cuda" : "emulator";
            c.trace = c.logger_name + "/trace.jsonl";
            train(c);
            use_emulated_device(false);
            traces[run] = read_text(c.trace);
        }
        REQUIRE(traces[0].size() > 100);
        CHECK(traces[1] == traces[0]);
        CHECK(traces[2] == traces[0]);
    }
}

// Exact resume on the device: 1 step, a checkpoint, 1 more step from it give the 2-step run's
// weights, BatchNorm statistics and AdamW moments (kept on the device) bit for bit. GPO only, to
// keep CI short: what HREM adds (its sampler's draws, the relation module's switch-on) comes from
// the host's RNG and step count, which the CPU resume tests cover.
TEST_CASE("training on the device resumes exactly: 1 step + resume + 1 step = 2 steps, bit for bit") {
    const std::string data = small_demo_dataset("device_resume", 60, 40, 64, 32);
    std::string ckpt[3];
    for (int run = 0; run < 3; run++) {  // 0: 2 steps; 1: 1 step; 2: resume run 1 to 2 steps
        TrainConfig c = small_device_run(data, "resume_gpo" + std::to_string(run), "gpo");
        c.device = cuda_available() ? "cuda" : "emulator";
        c.max_steps = run == 1 ? 1 : 2;
        c.log_step = 1;
        if (run == 2) c.resume = ckpt[1];
        train(c);
        use_emulated_device(false);
        ckpt[run] = c.logger_name + "/checkpoint.safetensors";
        CHECK(logged_losses(c.logger_name).size() == (run == 0 ? 2u : 1u));  // the resumed run made one step
    }
    const std::vector<float> two = all_weights(ckpt[0]), one = all_weights(ckpt[1]), resumed = all_weights(ckpt[2]);
    REQUIRE(two.size() == resumed.size());
    CHECK(two == resumed);
    CHECK(two != one);
    CHECK(safetensors_load(ckpt[2]).metadata.at("adam_steps") == "2");
}

// --precision bf16 trains: the GEMMs see bfloat16 inputs, everything else (and the weights AdamW
// updates) stays FP32. Against the FP32 device run the step losses and gradient norms differ
// (the rounding happened) but by little: each GEMM input is within 2^-8 relative. GPO's VSE++ loss
// is held to 2% (measured: 1.1e-4). GPO only, to keep CI short (HREM+VSD, measured once: 3.3% on one
// graph term at step 3, where its distance-weighted sampler swapped a drawn negative; the GEMM
// parity test covers the batched products its attention uses).
TEST_CASE("training on the device with --precision bf16 follows the FP32 run within BF16's rounding") {
    const std::string data = small_demo_dataset("device_bf16", 60, 40, 64, 32);
    std::vector<Json> steps[2];
    for (int run = 0; run < 2; run++) {
        TrainConfig c = small_device_run(data, "bf16_gpo" + std::to_string(run), "gpo");
        c.device = cuda_available() ? "cuda" : "emulator";
        c.precision = run ? "bf16" : "fp32";
        c.trace = c.logger_name + "/trace.jsonl";
        train(c);
        {
            TestDevice scope;
            select_precision("fp32", 0, Device::CUDA);  // the GEMMs of the tests that follow: FP32
        }
        use_emulated_device(false);
        std::istringstream lines(read_text(c.trace));
        for (std::string line; std::getline(lines, line);) steps[run].push_back(Json::parse(line, "trace"));
    }
    REQUIRE(steps[0].size() == 3);
    REQUIRE(steps[1].size() == 3);
    double max_rel = 0;
    for (int s = 0; s < 3; s++) {
        CAPTURE(s);
        for (const auto& [term, v] : steps[0][s]["loss"].members()) {
            CAPTURE(term);
            const double a = v.as_double(), b = steps[1][s]["loss"][term].as_double();
            REQUIRE(std::isfinite(b));
            CHECK(std::fabs(a - b) <= 0.02 * std::fabs(a) + 1e-3);
            max_rel = std::max(max_rel, std::fabs(a - b) / (std::fabs(a) + 1e-12));
        }
        const double ga = steps[0][s]["grad_norm"].as_double(), gb = steps[1][s]["grad_norm"].as_double();
        CHECK(std::fabs(ga - gb) <= 0.05 * ga);
    }
    CHECK(max_rel > 1e-7);  // BF16 did change the numbers
    MESSAGE("gpo: largest relative loss difference bf16 vs fp32 over 3 steps " << max_rel);
}

TEST_CASE("--device: a clear error without a GPU, and for an unknown name") {
    TrainConfig c;
    c.device = "gpu";
    CHECK_THROWS_WITH(c.finalize(), doctest::Contains("--device must be cpu, cuda or emulator"));
    if (cuda_available()) return;  // a GPU is there: --device cuda is valid
    const std::string data = small_demo_dataset("device_err", 20, 10, 32, 16);
    TrainConfig t = ci_train_config(data, temp_dir("device_err"));
    t.img_dim = 32;
    t.embed_size = 16;
    t.device = "cuda";
    CHECK_THROWS_WITH(train(t), doctest::Contains("--device cuda: no GPU is available"));
}
