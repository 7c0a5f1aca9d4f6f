// cuDNN behind --cudnn 1 (kernels/cudnn.h): its GRU and multi-head attention against our own
// kernels, which stay the reference. cuDNN runs on a GPU only (the emulator cannot run a closed
// library), so the parity cases skip with a message where there is none; the flag's error paths
// run everywhere.
#include "../kernels/backend.h"
#include "../kernels/cudnn.h"
#include "../src/nn/bert.h"
#include "../src/nn/encoders.h"
#include "../src/train/trainer.h"
#include "helpers.h"

#include <cstdio>

// asked once, when the test cases register (before main: no doctest MESSAGE here)
static bool no_cudnn() {
    std::string why;
    const bool ok = cudnn::available(&why);
    static bool said = false;
    if (!ok && !said) std::fprintf(stderr, "note: cuDNN parity tests skipped: %s\n", why.c_str());
    said = true;
    return !ok;
}

// switches --cudnn on for one scope (the tests below need a GPU)
struct CudnnOn {
    CudnnOn() { select_cudnn(1, Device::CUDA); }
    ~CudnnOn() { use_cudnn(false); }
};

TEST_CASE("--cudnn: one clear error without a GPU, in the emulator, on the CPU, and for a bad value") {
    CHECK_THROWS_WITH(select_cudnn(2, Device::CUDA), doctest::Contains("--cudnn must be 0 or 1"));
    CHECK_THROWS_WITH(select_cudnn(1, Device::CPU), doctest::Contains("--cudnn 1 needs --device cuda"));
    select_cudnn(0, Device::CPU);
    CHECK_FALSE(cudnn_enabled());
    {
        EmulatedDevice emu;  // cuDNN is a closed library: the emulator cannot run it
        CHECK_THROWS_WITH(select_cudnn(1, Device::CUDA), doctest::Contains("--cudnn 1 needs --device cuda"));
        Tensor x = rnd({2, 3, 4}, 1).to(Device::CUDA), len = Tensor::from_i64({2}, {3, 1});
        std::vector<Tensor> w = {rnd({6, 4}, 2).to(Device::CUDA), rnd({6, 2}, 3).to(Device::CUDA),
                                 rnd({6}, 4).to(Device::CUDA), rnd({6}, 5).to(Device::CUDA)};
        CHECK_THROWS_WITH(gru_cudnn(x, len, w), doctest::Contains("cannot run in the emulator"));
    }
    std::string why;
    if (cudnn::available(&why)) return;  // a GPU: the parity cases below run instead
    CHECK(!why.empty());
    CHECK_THROWS_WITH(select_cudnn(1, Device::CUDA), doctest::Contains("--cudnn 1: cuDNN cannot run"));
    // a training run asked for cuDNN on the CPU stops before its first step
    const std::string data = small_demo_dataset("cudnn_err", 20, 10, 32, 16);
    TrainConfig t = ci_train_config(data, temp_dir("cudnn_err"));
    t.img_dim = 32;
    t.embed_size = 16;
    t.cudnn = 1;
    CHECK_THROWS_WITH(train(t), doctest::Contains("--cudnn 1 needs --device cuda"));
}

TEST_CASE("--tf32: errors on the CPU and for a bad value; on the (emulated) device it rounds GEMM inputs, 0 restores FP32") {
    CHECK_THROWS_WITH(select_tf32(2, Device::CPU), doctest::Contains("--tf32 must be 0 or 1"));
    CHECK_THROWS_WITH(select_tf32(1, Device::CPU), doctest::Contains("--tf32 1 needs a device"));
    select_tf32(0, Device::CPU);  // fine, and nothing to do
    EmulatedDevice emu;
    // 1 + 2^-11 rounds to 1 + 2^-10 in TF32 (a tie, away from zero); 1 + 2^-12 to 1
    Tensor a = T({1, 2}, {1.0f + std::ldexp(1.0f, -11), 1.0f + std::ldexp(1.0f, -12)}).to(Device::CUDA);
    Tensor b = T({2, 1}, {1.0f, 1.0f}).to(Device::CUDA);
    select_tf32(1, Device::CUDA);
    const float with = matmul(a, b).to(Device::CPU).data()[0];
    select_tf32(0, Device::CUDA);
    const float without = matmul(a, b).to(Device::CPU).data()[0];
    CHECK(with == 2.0f + std::ldexp(1.0f, -10));
    CHECK(without == 2.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -12));
}

TEST_CASE("--precision: fp32, tf32 or bf16; errors on the CPU, for a bad value and beside --tf32 1; bf16 rounds GEMM inputs") {
    CHECK_THROWS_WITH(select_precision("fp16", 0, Device::CPU), doctest::Contains("--precision must be fp32, tf32 or bf16"));
    CHECK_THROWS_WITH(select_precision("bf16", 0, Device::CPU), doctest::Contains("--precision bf16 needs a device"));
    CHECK_THROWS_WITH(select_precision("tf32", 0, Device::CPU), doctest::Contains("--precision tf32 needs a device"));
    CHECK_THROWS_WITH(select_precision("bf16", 1, Device::CUDA), doctest::Contains("--tf32 1 and --precision bf16"));
    select_precision("fp32", 0, Device::CPU);  // the default: nothing to do
    {   // a CPU training run asked for BF16 stops before its first step
        const std::string data = small_demo_dataset("bf16_err", 20, 10, 32, 16);
        TrainConfig t = ci_train_config(data, temp_dir("bf16_err"));
        t.img_dim = 32;
        t.embed_size = 16;
        t.precision = "bf16";
        CHECK_THROWS_WITH(train(t), doctest::Contains("--precision bf16 needs a device"));
    }
    EmulatedDevice emu;
    // (1 + 3 2^-8) + (1 + 2^-9): BF16 rounds the first up to 1 + 2^-6 (a tie, to even) and the second to 1
    Tensor a = T({1, 2}, {1.0f + 3 * std::ldexp(1.0f, -8), 1.0f + std::ldexp(1.0f, -9)}).to(Device::CUDA);
    Tensor b = T({2, 1}, {1.0f, 1.0f}).to(Device::CUDA);
    const float fp32 = 2.0f + 3 * std::ldexp(1.0f, -8) + std::ldexp(1.0f, -9);
    select_precision("bf16", 0, Device::CUDA);
    CHECK(matmul(a, b).to(Device::CPU).data()[0] == 2.0f + std::ldexp(1.0f, -6));
    select_precision("tf32", 0, Device::CUDA);  // TF32 keeps these bits: exact
    CHECK(matmul(a, b).to(Device::CPU).data()[0] == fp32);
    select_precision("bf16", 0, Device::CUDA);
    select_precision("fp32", 0, Device::CUDA);  // back to FP32
    CHECK(matmul(a, b).to(Device::CPU).data()[0] == fp32);
}

// cuDNN's GRU layer against ours (the GEMMs + gate kernel on the same GPU): outputs, input
// gradients and every weight gradient, one or both directions, ragged lengths (1 and T among
// them), a hidden size that is no multiple of 32, and an upstream gradient that is nonzero in the
// padding (which both must ignore).
static void gru_parity(int64_t B, int64_t T, int64_t I, int64_t H, const std::vector<int64_t>& lengths, int dirs,
                       double tol) {
    CAPTURE(B);
    CAPTURE(T);
    CAPTURE(I);
    CAPTURE(H);
    CAPTURE(dirs);
    const float bound = 1.0f / std::sqrt((float)H);
    std::vector<Tensor> w;
    for (int d = 0; d < dirs; d++)
        for (Shape s : {Shape{3 * H, I}, Shape{3 * H, H}, Shape{3 * H}, Shape{3 * H}})
            w.push_back(rnd(s, 10 + w.size(), -bound, bound));
    Tensor x = rnd({B, T, I}, 1), len = Tensor::from_i64({B}, lengths), seed = rnd({B, T, dirs * H}, 2);
    auto run = [&](bool use) {
        std::vector<Tensor> in;
        for (const Tensor& t : w) in.push_back(t.clone().to(Device::CUDA).requires_grad());
        Tensor xd = x.clone().to(Device::CUDA).requires_grad();
        tape().clear();
        Tensor y;
        if (use) {
            y = gru_cudnn(xd, len, in);
        } else {
            Tensor f = gru(xd, len, in[0], in[1], in[2], in[3], false);
            y = dirs == 1 ? f : concat({f, gru(xd, len, in[4], in[5], in[6], in[7], true)}, 2);
        }
        tape().backward(y, seed.to(Device::CUDA));
        std::vector<Tensor> out = {y.to(Device::CPU), xd.grad_tensor().to(Device::CPU)};
        for (const Tensor& t : in) out.push_back(t.grad_tensor().to(Device::CPU));
        return out;
    };
    std::vector<Tensor> ours = run(false), theirs = run(true);
    const char* names[] = {"y", "dx", "w_ih", "w_hh", "b_ih", "b_hh", "w_ih_r", "w_hh_r", "b_ih_r", "b_hh_r"};
    for (size_t i = 0; i < ours.size(); i++) {
        CAPTURE(names[i]);
        CHECK_CLOSE(theirs[i], ours[i], tol, 10 * tol);
    }
}

TEST_CASE("GPU parity: cuDNN's GRU equals our GRU kernels (forward, input and weight gradients)" *
          doctest::skip(no_cudnn())) {
    gru_parity(5, 7, 9, 33, {7, 1, 3, 7, 5}, 1, 1e-5);
    gru_parity(5, 7, 9, 33, {7, 1, 3, 7, 5}, 2, 1e-5);
    gru_parity(1, 1, 3, 4, {1}, 2, 1e-5);
    gru_parity(16, 12, 300, 1024, {12, 3, 9, 1, 12, 7, 5, 8, 12, 2, 11, 6, 4, 10, 12, 9}, 2, 1e-4);  // GPO's size
}

TEST_CASE("GPU parity: the BiGRU text encoder with --cudnn 1 equals it without" * doctest::skip(no_cudnn())) {
    Rng r1(4), r2(4);
    TextEncoderBiGRU ours(50, 12, 40, r1), theirs(50, 12, 40, r2);
    ours.to(Device::CUDA);
    theirs.to(Device::CUDA);
    Tensor ids = Tensor::from_i64({3, 5}, {1, 5, 7, 2, 0, 1, 9, 2, 0, 0, 3, 4, 8, 6, 2});
    Tensor tl = Tensor::from_i64({3}, {4, 3, 5}), seed = rnd({3, 40}, 6);
    tape().clear();
    Tensor u = ours.forward(ids, tl);
    tape().backward(u, seed.to(Device::CUDA));
    Tensor v;
    {
        CudnnOn on;
        v = theirs.forward(ids, tl);
        tape().backward(v, seed.to(Device::CUDA));
    }
    CHECK_CLOSE(v.to(Device::CPU), u.to(Device::CPU), 1e-5, 1e-4);
    auto po = ours.named_parameters(), pt = theirs.named_parameters();
    for (size_t i = 0; i < po.size(); i++) {
        CAPTURE(po[i].first);
        CHECK_CLOSE(pt[i].second.grad_tensor().to(Device::CPU), po[i].second.grad_tensor().to(Device::CPU), 1e-5, 1e-4);
    }
}

// cuDNN's multi-head attention (with the Q/K/V projections inside) against our projections and
// fused attention kernel, with prefix key masks (a single key among them).
static void attention_parity(int64_t B, int64_t L, int64_t E, int64_t A, const std::vector<int>& key_len, double tol) {
    CAPTURE(B);
    CAPTURE(L);
    CAPTURE(E);
    CAPTURE(A);
    const float bound = 1.0f / std::sqrt((float)E);
    Tensor h = rnd({B, L, E}, 1).to(Device::CUDA);
    std::vector<Tensor> p;
    for (int i = 0; i < 3; i++) {
        p.push_back(rnd({E, E}, 20 + i, -bound, bound).to(Device::CUDA));
        p.push_back(rnd({E}, 30 + i, -bound, bound).to(Device::CUDA));
    }
    Tensor keep = Tensor::zeros({B, L});
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < key_len[b]; t++) keep.data()[b * L + t] = 1.0f;
    NoGrad ng;
    Tensor want = attention(linear(h, p[0], p[1]), linear(h, p[2], p[3]), linear(h, p[4], p[5]), keep.to(Device::CUDA), A);
    Tensor got = attention_cudnn(h, p[0], p[1], p[2], p[3], p[4], p[5], key_len, A);
    CHECK_CLOSE(got.to(Device::CPU), want.to(Device::CPU), tol, 10 * tol);
}

TEST_CASE("GPU parity: cuDNN's multi-head attention equals our projections + fused attention kernel" *
          doctest::skip(no_cudnn())) {
    attention_parity(3, 11, 32, 4, {11, 1, 6}, 1e-5);
    attention_parity(2, 5, 12, 1, {3, 5}, 1e-5);           // one head
    attention_parity(8, 40, 768, 12, {40, 12, 33, 1, 7, 40, 25, 18}, 1e-4);  // bert-base's width
}

TEST_CASE("GPU parity: BERT inference with --cudnn 1 equals our fused path" * doctest::skip(no_cudnn())) {
    BertConfig c;
    c.vocab_size = 30;
    c.hidden = 64;
    c.layers = 2;
    c.heads = 4;
    c.intermediate = 96;
    c.max_positions = 16;
    Rng r1(7), r2(7);
    Bert ours(c, r1), theirs(c, r2);
    ours.to(Device::CUDA);
    theirs.to(Device::CUDA);
    Tensor ids = Tensor::from_i64({3, 6}, {2, 7, 9, 3, 0, 0, 2, 11, 12, 13, 14, 3, 2, 3, 0, 0, 0, 0});
    Tensor len = Tensor::from_i64({3}, {4, 6, 2});
    NoGrad ng;
    Tensor want = ours.forward(ids, len), got;
    {
        CudnnOn on;
        got = theirs.forward(ids, len);
    }
    CHECK_CLOSE(got.to(Device::CPU), want.to(Device::CPU), 2e-5, 2e-4);
}
