// Reference parity: GPO, the GPO image encoder and the BiGRU text encoder, forward and backward,
// against PyTorch modules written from SPEC (tools/make_gpo_fixtures.py; fixtures in tests/fixtures/gpo).
#include "../src/nn/encoders.h"
#include "reference_fixtures.h"

static Tensor load(const std::string& dir, const std::string& name, DType t = DType::F32) {
    return load_fixture("gpo/" + dir, name, t);
}
static void load_weights(Module& m, const std::string& dir) { load_fixture_weights(m, "gpo/" + dir); }
static void check_grads(const Module& m, const std::string& dir) { check_fixture_grads(m, "gpo/" + dir); }

TEST_CASE("reference parity: GPO forward and backward") {
    Rng rng(0);
    GPO g(rng);
    load_weights(g, "gpo");
    Tensor feats = load("gpo", "in_feats").requires_grad();
    Tensor lengths = load("gpo", "in_lengths", DType::I64);
    tape().clear();
    Tensor out = g.forward(feats, lengths);
    check_tensor(out, load("gpo", "out"), "out");
    tape().backward(out, load("gpo", "seed_grad"));
    check_grads(g, "gpo");
    check_tensor(feats.grad_tensor(), load("gpo", "grad_in_feats"), "grad feats");
}

TEST_CASE("reference parity: GPO image encoder (training mode, BN over padded rows)") {
    Rng rng(0);
    ImageEncoderGPO enc(12, 8, rng);
    load_weights(enc, "image");
    Tensor x = load("image", "in_images").requires_grad();
    Tensor lengths = load("image", "in_lengths", DType::I64);
    tape().clear();
    Tensor out = enc.forward(x, lengths);
    check_tensor(out, load("image", "out"), "out");
    tape().backward(out, load("image", "seed_grad"));
    check_grads(enc, "image");
    check_tensor(x.grad_tensor(), load("image", "grad_in_images"), "grad images");
    for (auto& [name, b] : enc.named_buffers()) {
        if (b.dtype() != DType::F32) continue;
        CAPTURE(name);
        check_tensor(b, load("image", "buffer_" + name), name);
    }
}

TEST_CASE("reference parity: BiGRU text encoder") {
    Rng rng(0);
    TextEncoderBiGRU enc(11, 6, 8, rng);
    load_weights(enc, "text");
    Tensor ids = load("text", "in_tokens", DType::I64), lengths = load("text", "in_lengths", DType::I64);
    tape().clear();
    Tensor out = enc.forward(ids, lengths);
    check_tensor(out, load("text", "out"), "out");
    tape().backward(out, load("text", "seed_grad"));
    check_grads(enc, "text");
}

TEST_CASE("GPO: parameter names and counts match the reference (paper-notes §7.1)") {
    Rng rng(0);
    GPO g(rng);
    CHECK(g.num_parameters() == 12704);
    ImageEncoderGPO img(2048, 1024, rng);
    CHECK(img.num_parameters() == 3688352);  // fc + MLP (+ BN512 + unused BN1024) + GPO
    auto names = img.named_parameters("img_enc.");
    CHECK(names[0].first == "img_enc.fc.weight");
    CHECK(names.back().first == "img_enc.gpool.linear.weight");
    bool found = false;
    for (auto& n : img.named_buffers("img_enc.")) found = found || n.first == "img_enc.mlp.bns.0.running_var";
    CHECK(found);
    // the fc init bound is sqrt(6 / (2048 + 1024)) = 0.04419
    float mx = 0;
    for (float v : img.fc.weight.to_vector()) mx = std::max(mx, std::fabs(v));
    CHECK(mx <= std::sqrt(6.0f / 3072.0f));
    CHECK(mx > 0.044f);
}

TEST_CASE("GRU op: gradcheck, both directions, ragged lengths") {
    Tensor lengths = Tensor::from_i64({3}, {4, 1, 3});
    for (bool rev : {false, true}) {
        CAPTURE(rev);
        CHECK_GRAD([&](std::vector<Tensor>& in) { return gru(in[0], lengths, in[1], in[2], in[3], in[4], rev); },
                   {rnd({3, 4, 2}, 1), rnd({9, 2}, 2), rnd({9, 3}, 3), rnd({9}, 4), rnd({9}, 5)});
    }
    // padding positions are zero and do not influence the result
    Rng r(1);
    Tensor x = Tensor::randn({2, 3, 2}, r), w_ih = Tensor::randn({6, 2}, r), w_hh = Tensor::randn({6, 2}, r);
    Tensor b_ih = Tensor::randn({6}, r), b_hh = Tensor::randn({6}, r);
    Tensor lens = Tensor::from_i64({2}, {3, 1});
    Tensor y1 = gru(x, lens, w_ih, w_hh, b_ih, b_hh, true);
    x.data()[1 * 6 + 2] = 100.0f;  // sample 1, position 1 is padding
    Tensor y2 = gru(x, lens, w_ih, w_hh, b_ih, b_hh, true);
    CHECK(y1.to_vector() == y2.to_vector());
    CHECK(y1.data()[1 * 6 + 2] == 0.0f);
    CHECK_THROWS_WITH(gru(x, Tensor::from_i64({2}, {4, 1}), w_ih, w_hh, b_ih, b_hh, false), doctest::Contains("outside [0, 4)"));
}
