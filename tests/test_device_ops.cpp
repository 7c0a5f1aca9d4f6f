// The ops' device paths: every op dispatched to the CUDA kernels must give what the CPU gives,
// forward and backward. In CI the "device" is the CUDA emulator (backend.h: use_emulated_device),
// which runs the same kernel sources as the GPU; on a machine with a GPU the same checks run there.
#include <functional>

#include "../kernels/backend.h"
#include "../src/nn/bert.h"
#include "../src/nn/encoders.h"
#include "../src/nn/hrem.h"
#include "helpers.h"

using OpFn = std::function<Tensor(std::vector<Tensor>&)>;

// Run f on CPU inputs and on device copies of them; compare the outputs and the gradients of every
// float input (seeded with the same random output gradient).
static void check_device_op(const char* what, const OpFn& f, const std::vector<Tensor>& inputs, double atol = 2e-5,
                            double rtol = 2e-4) {
    const std::string op = what;
    CAPTURE(op);
    auto prepare = [&](Device d) {
        std::vector<Tensor> in;
        for (const Tensor& t : inputs) {
            Tensor c = t.clone().to(d);
            if (c.dtype() == DType::F32) c.requires_grad();
            in.push_back(c);
        }
        return in;
    };
    std::vector<Tensor> cin = prepare(Device::CPU), din = prepare(Device::CUDA);
    tape().clear();
    Tensor y = f(cin);
    Tensor seed = rnd(y.shape(), 99);
    if (y.needs_grad()) tape().backward(y, seed);
    tape().clear();
    Tensor yd = f(din);
    REQUIRE_MESSAGE(yd.is_cuda(), op << ": the output left the device");
    if (yd.needs_grad()) tape().backward(yd, seed);
    tape().clear();
    CHECK_CLOSE(yd.to(Device::CPU), y, atol, rtol);
    for (size_t i = 0; i < cin.size(); i++) {
        if (cin[i].dtype() != DType::F32) continue;
        CAPTURE(i);
        CHECK_CLOSE(din[i].grad_tensor().to(Device::CPU), cin[i].grad_tensor(), atol, rtol);
    }
}


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

TEST_CASE("device ops (emulated): elementwise, broadcasting, reductions, products") {
    EmulatedDevice emu;
    check_device_op("add broadcast", [](std::vector<Tensor>& x) { return x[0] + x[1]; }, {rnd({3, 1, 5}, 1), rnd({4, 5}, 2)});
    check_device_op("sub", [](std::vector<Tensor>& x) { return x[0] - x[1]; }, {rnd({2, 33}, 3), rnd({2, 33}, 4)});
    check_device_op("mul broadcast", [](std::vector<Tensor>& x) { return x[0] * x[1]; }, {rnd({2, 3, 4}, 5), rnd({3, 1}, 6)});
    check_device_op("div", [](std::vector<Tensor>& x) { return x[0] / x[1]; }, {rnd({7}, 7), rnd({7}, 8, 0.5f, 2.0f)});
    check_device_op("scalars and unary chain",
                    [](std::vector<Tensor>& x) {
                        Tensor a = x[0] * 0.7f + 0.1f;
                        return sigmoid(a) + tanh(a) + gelu(a) + relu(a) + leaky_relu(a, 0.1f) + exp(a) + abs(a) +
                               clamp(a, -0.3f, 0.4f) + pow(abs(a) + 0.5f, 1.5f) + log(abs(a) + 0.5f) + sqrt(abs(a) + 0.5f);
                    },
                    {rnd({5, 37}, 9)});
    check_device_op("sum dim", [](std::vector<Tensor>& x) { return sum(x[0], 1); }, {rnd({3, 4, 5}, 10)});
    check_device_op("mean keepdim", [](std::vector<Tensor>& x) { return mean(x[0], -1, true); }, {rnd({3, 4, 5}, 11)});
    check_device_op("sum all", [](std::vector<Tensor>& x) { return sum(x[0] * x[0]); }, {rnd({6, 7}, 12)});
    check_device_op("max", [](std::vector<Tensor>& x) { return max(x[0], 1).first; }, {distinct({3, 6, 2}, 13)});
    check_device_op("matmul", [](std::vector<Tensor>& x) { return matmul(x[0], x[1]); }, {rnd({5, 3}, 14), rnd({3, 4}, 15)});
    check_device_op("matmul batched, transposed",
                    [](std::vector<Tensor>& x) { return matmul(x[0], x[1], true, true); },
                    {rnd({2, 3, 5}, 16), rnd({2, 4, 3}, 17)});
    check_device_op("matmul shared b", [](std::vector<Tensor>& x) { return matmul(x[0], x[1], false, true); },
                    {rnd({2, 3, 5}, 18), rnd({4, 5}, 19)});
    // the device runs a batch as one strided-batched GEMM (and a shared b's gradient as one GEMM
    // over the stacked rows, or per product when a is transposed): every transpose, 4-D batches
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (bool shared : {false, true}) {
                const int64_t M = 3, K = 5, N = 4;
                Shape sa = ta ? Shape{2, 3, K, M} : Shape{2, 3, M, K};
                Shape sb = tb ? Shape{N, K} : Shape{K, N};
                if (!shared) sb.insert(sb.begin(), {2, 3});
                CAPTURE(ta);
                CAPTURE(tb);
                CAPTURE(shared);
                check_device_op("matmul 4-D batch", [=](std::vector<Tensor>& x) { return matmul(x[0], x[1], ta, tb); },
                                {rnd(sa, 40), rnd(sb, 41)});
            }
    check_device_op("linear", [](std::vector<Tensor>& x) { return linear(x[0], x[1], x[2]); },
                    {rnd({2, 3, 6}, 20), rnd({5, 6}, 21), rnd({5}, 22)});
    check_device_op("cdist (with a zero distance)", [](std::vector<Tensor>& x) { return sum(cdist(x[0], x[0])) + cdist(x[0], x[1]); },
                    {rnd({4, 3}, 23), rnd({5, 3}, 24)});
}

TEST_CASE("device ops (emulated): layers, shapes, indexing") {
    EmulatedDevice emu;
    Tensor keep = T({2, 4}, {1, 1, 0, 1, 0, 0, 0, 0});  // the second row fully masked
    check_device_op("softmax masked", [&](std::vector<Tensor>& x) { return softmax(x[0], keep); }, {rnd({2, 4}, 30)});
    check_device_op("log_softmax", [](std::vector<Tensor>& x) { return log_softmax(x[0]); }, {rnd({3, 40}, 31)});
    check_device_op("layernorm", [](std::vector<Tensor>& x) { return layernorm(x[0], x[1], x[2]); },
                    {rnd({3, 2, 33}, 32), rnd({33}, 33), rnd({33}, 34)});
    check_device_op("l2norm", [](std::vector<Tensor>& x) { return l2norm(x[0]); }, {rnd({4, 9}, 35)});
    check_device_op("batchnorm1d (train)",
                    [](std::vector<Tensor>& x) {
                        Tensor rm = Tensor::zeros({5}, DType::F32, x[0].device()), rv = Tensor::ones({5}).to(x[0].device());
                        return batchnorm1d(x[0], x[1], x[2], rm, rv, true);
                    },
                    {rnd({7, 5}, 36), rnd({5}, 37), rnd({5}, 38)});
    check_device_op("dropout (same seed, same mask)",
                    [](std::vector<Tensor>& x) {
                        Rng r(5);
                        return dropout(x[0], 0.3f, true, r);
                    },
                    {rnd({6, 11}, 39)});
    check_device_op("embedding (host ids, repeated)",
                    [](std::vector<Tensor>& x) { return embedding(Tensor::from_i64({2, 3}, {1, 0, 4, 4, 2, 1}), x[0]); },
                    {rnd({5, 7}, 40)});
    check_device_op("reshape + narrow (view and copy) + concat",
                    [](std::vector<Tensor>& x) {
                        Tensor r = reshape(x[0], {4, 6});
                        return concat({narrow(r, 0, 1, 2), reshape(narrow(x[0], 2, 1, 3), {2, 6})}, 0);
                    },
                    {rnd({2, 2, 6}, 41)});
    check_device_op("permute and transpose",
                    [](std::vector<Tensor>& x) { return permute(x[0], {2, 0, 3, 1}) * 2.0f + transpose(permute(x[0], {2, 0, 3, 1}), 1, 1); },
                    {rnd({2, 3, 4, 5}, 42)});
    Tensor mask = T({3, 1}, {1, 0, 1});
    check_device_op("masked_fill and where",
                    [&](std::vector<Tensor>& x) { return masked_fill(x[0], mask, -2.0f) + where(mask, x[0], x[1]); },
                    {rnd({3, 4}, 43), rnd({3, 4}, 44)});
    Tensor idx = Tensor::from_i64({2, 2}, {2, 0, 1, 1});
    check_device_op("gather and index_select",
                    [&](std::vector<Tensor>& x) {
                        return gather(x[0], 1, idx) + index_select(x[0], 1, Tensor::from_i64({2}, {0, 2}));
                    },
                    {rnd({2, 3}, 45)});
    check_device_op("sort and topk", [](std::vector<Tensor>& x) {
        return sort(x[0], 1, true).first + topk(x[0], 3, 1).first * 2.0f + topk(x[0], 3, 1, false).first;
    }, {distinct({4, 3, 2}, 46)});
}

TEST_CASE("device ops (emulated): the GRU (both directions, ragged lengths, garbage in the padding)") {
    EmulatedDevice emu;
    Tensor lengths = Tensor::from_i64({3}, {5, 2, 4});
    Tensor x = rnd({3, 5, 4}, 50);
    for (int64_t t = 2; t < 5; t++)
        for (int64_t i = 0; i < 4; i++) x.data()[(1 * 5 + t) * 4 + i] = 99.0f;
    for (bool rev : {false, true}) {
        CAPTURE(rev);
        check_device_op("gru",
                        [&](std::vector<Tensor>& in) { return gru(in[0], lengths, in[1], in[2], in[3], in[4], rev); },
                        {x, rnd({18, 4}, 51), rnd({18, 6}, 52), rnd({18}, 53), rnd({18}, 54)}, 5e-5, 5e-4);
    }
}

TEST_CASE("device ops (emulated): mixing devices is a clear error") {
    EmulatedDevice emu;
    Tensor a = rnd({2, 2}, 1).to(Device::CUDA), b = rnd({2, 2}, 2);
    CHECK_THROWS_WITH(a + b, doctest::Contains("some inputs are on the device and some on the CPU"));
    CHECK_THROWS_WITH(a.index_at(0), doctest::Contains("copy the (2, 2) tensor to the CPU"));
}

TEST_CASE("device ops (emulated): a BERT forward and backward equals the CPU's") {
    EmulatedDevice emu;
    Rng r1(1), r2(1);
    Bert cpu(tiny_bert(), r1), dev(tiny_bert(), r2);
    dev.to(Device::CUDA);
    Tensor ids = Tensor::from_i64({2, 5}, {2, 7, 9, 3, 0, 2, 11, 3, 0, 0}), len = Tensor::from_i64({2}, {4, 3});
    tape().clear();
    Tensor h = cpu.forward(ids, len);
    Tensor seed = rnd(h.shape(), 5);
    tape().backward(h, seed);
    Tensor hd = dev.forward(ids, len);
    tape().backward(hd, seed);
    check_same_module(cpu, dev, h, hd);
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
    Tensor qg = rnd({B, L, H}, 4).requires_grad();
    CHECK_THROWS_WITH(attention(qg, k, v, keep, A), doctest::Contains("no backward"));
    // BERT under NoGrad on the (emulated) device takes the fused path; it equals the CPU forward
    EmulatedDevice emu;
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

TEST_CASE("device ops (emulated): the HREM image encoder forward and backward equal the CPU's") {
    EmulatedDevice emu;
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

TEST_CASE("device ops (emulated): GPO's image and BiGRU text encoders, forward and backward, equal the CPU's") {
    EmulatedDevice emu;
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

TEST_CASE("training on the (emulated) device follows the CPU run: GPO, and HREM+VSD with its relation module") {
    const std::string data = small_demo_dataset("device_train", 60, 40, 64, 32);
    for (std::string model : {"gpo", "hrem"}) {
        CAPTURE(model);
        std::vector<double> losses[2];
        std::string runs[2];
        for (int d = 0; d < 2; d++) {
            TrainConfig c = ci_train_config(data, temp_dir("dev_" + model + std::to_string(d)));
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
            c.log_step = 1;
            c.device = d ? "emulator" : "cpu";
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
