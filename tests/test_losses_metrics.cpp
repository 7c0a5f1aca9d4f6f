// Losses and retrieval metrics against torch/numpy fixtures (tools/make_loss_fixtures.py).
#include "../kernels/triplet_sampler.h"
#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "../src/nn/losses.h"
#include "../src/train/metrics.h"
#include "helpers.h"

static Tensor fx(const std::string& n, DType t = DType::F32) { return npy_load(fixture("loss/" + n + ".npy"), t); }
static std::vector<int64_t> ids_of(const Tensor& t) {
    std::vector<int64_t> v(t.numel());
    for (int64_t i = 0; i < t.numel(); i++) v[i] = t.index_at(i);
    return v;
}

TEST_CASE("VSE++ hinge: sum and max-violation equal torch, repeated images masked; gradcheck") {
    std::vector<int64_t> ids = ids_of(fx("img_ids", DType::I64));
    for (bool mx : {false, true}) {
        CAPTURE(mx);
        std::string m = mx ? "max" : "sum";
        Tensor V = fx("V").requires_grad(), T = fx("T").requires_grad();
        tape().clear();
        Tensor loss = contrastive_loss(V, T, ids, 0.2f, mx);
        CHECK(loss.item() == doctest::Approx(fx("vse_" + m + "_loss").item()).epsilon(1e-5));
        backward(loss);
        CHECK_CLOSE(V.grad_tensor(), fx("vse_" + m + "_gV"), 1e-5, 1e-5);
        CHECK_CLOSE(T.grad_tensor(), fx("vse_" + m + "_gT"), 1e-5, 1e-5);
    }
    CHECK_GRAD([ids](std::vector<Tensor>& in) { return contrastive_loss(in[0], in[1], ids, 0.2f, false); },
               {fx("V"), fx("T")});
    // by hand: two orthogonal pairs, S = I. With margin 1.5 each of the 4 off-diagonal terms is
    // 1.5 + 0 - 1 = 0.5 (2 in c_s, 2 in c_im); max-violation takes the one per row/column: same total.
    Tensor a = T({2, 2}, {1, 0, 0, 1}), b = T({2, 2}, {1, 0, 0, 1});
    CHECK(contrastive_loss(a, b, {0, 1}, 0.2f, false).item() == 0.0f);                  // margin 0.2: no violation
    CHECK(contrastive_loss(a, b, {0, 1}, 1.5f, false).item() == doctest::Approx(2.0));
    CHECK(contrastive_loss(a, b, {0, 1}, 1.5f, true).item() == doctest::Approx(2.0));
    CHECK(contrastive_loss(a, b, {0, 0}, 1.5f, false).item() == 0.0f);                  // same image: all masked
    CHECK(contrastive_loss(a, b, {0, 0}, 1.5f, false, false).item() == doctest::Approx(2.0));  // vse_infty: diagonal only
}

TEST_CASE("triplet: sampling weights equal the reference formula in both directions") {
    Tensor S = fx("trip_S");
    std::vector<int64_t> ids = ids_of(fx("trip_ids", DType::I64));
    const int64_t B = S.size(0);
    TripletOptions o;
    std::vector<float> sv = S.to_vector();
    std::vector<double> w(B * B), ws(B * B);
    std::vector<int64_t> ok(B);
    triplet_weights_cpu(w.data(), ok.data(), sv.data(), ids.data(), B, o.dim, o.min_dist, o.cutoff);
    Tensor want = npy_load(fixture("loss/trip_w_im.npy"));
    int nonzero = 0;
    for (int64_t k = 0; k < B * B; k++) {
        CHECK(w[k] == doctest::Approx(want.data()[k]).epsilon(1e-5));
        nonzero += w[k] > 0;
    }
    CHECK(nonzero > 5);  // the fixture really exercises the cutoff and the weighting
    std::vector<float> st(B * B);
    for (int64_t i = 0; i < B; i++)
        for (int64_t j = 0; j < B; j++) st[i * B + j] = sv[j * B + i];
    triplet_weights_cpu(ws.data(), ok.data(), st.data(), ids.data(), B, o.dim, o.min_dist, o.cutoff);
    Tensor want_s = npy_load(fixture("loss/trip_w_s.npy"));
    for (int64_t k = 0; k < B * B; k++) CHECK(ws[k] == doctest::Approx(want_s.data()[k]).epsilon(1e-5));
}

TEST_CASE("triplet: loss by hand with a single valid negative; no-negative anchors skipped or zeroing (reference)") {
    // 3 samples, images 0, 0, 1. Embeddings on a circle so that every distance is known.
    // V = T = unit vectors at angles 0, 0.3, 1.0 rad. Positives: (0,0),(0,1),(1,0),(1,1),(2,2).
    auto unitv = [](std::vector<float> ang) {
        std::vector<float> v;
        for (float a : ang) { v.push_back(std::cos(a)); v.push_back(std::sin(a)); }
        return Tensor::from({(int64_t)ang.size(), 2}, v);
    };
    Tensor V = unitv({0.0f, 0.3f, 1.0f}), Tt = unitv({0.0f, 0.3f, 1.0f});
    std::vector<int64_t> ids = {0, 0, 1};
    TripletOptions o;
    o.margin = 0.2f;
    o.cutoff = 1.7f;
    Rng rng(1);
    TripletStats st;
    // every anchor of image 0 has exactly one negative (the sample of image 1), and vice versa
    // anchor 2 has negatives 0 and 1 (both valid). So the loss is deterministic for rows 0, 1 and
    // sampled for row 2; use a margin large enough that every hinge is active and sum by cases.
    o.margin = 2.0f;
    Tensor loss = triplet_loss(V, Tt, ids, o, rng, &st);
    CHECK(st.pairs == 10);  // 5 positive pairs per direction
    CHECK(st.skipped_anchors == 0);
    // rows 0/1 (image 0) always pick column 2; row 2 picks 0 or 1. Both directions are symmetric.
    auto c = [](float a, float b) { return std::cos(a - b); };
    double fixed = 0;
    for (float a : {0.0f, 0.3f})
        for (float p : {0.0f, 0.3f}) fixed += 2.0 + c(a, 1.0f) - c(a, p);
    double lo = 2 * fixed + 2 * (2.0 + c(1.0f, 0.0f) - 1.0), hi = 2 * fixed + 2 * (2.0 + c(1.0f, 0.3f) - 1.0);
    CHECK(loss.item() >= lo - 1e-4);
    CHECK(loss.item() <= hi + 1e-4);
    // an anchor with no negative under the cutoff: ours skips it, the reference zeroes the direction
    // distances to the other image: 2 sin(0.5) = 0.959 (angles 0 and 1) and 2 sin(0.35) = 0.686
    // (0.3 and 1). With cutoff 0.8 anchor 0 has no valid negative in each direction; 1 and 2 do.
    o.cutoff = 0.8f;
    TripletStats s2;
    Tensor l2 = triplet_loss(V, Tt, ids, o, rng, &s2);
    CHECK(s2.skipped_anchors == 2);
    CHECK(s2.pairs == 2 * 3);  // anchor 1: pairs (1,0), (1,1); anchor 2: (2,2); per direction
    CHECK(l2.item() > 0.0f);
    o.reference_skip = true;
    TripletStats s3;
    Tensor l3 = triplet_loss(V, Tt, ids, o, rng, &s3);
    CHECK(s3.zeroed_directions == 2);
    CHECK(l3.item() == 0.0f);
}

TEST_CASE("triplet: gradcheck with a fixed sampler seed") {
    std::vector<int64_t> ids = {0, 0, 1, 2, 3};
    TripletOptions o;
    o.cutoff = 2.0f;
    auto f = [&](std::vector<Tensor>& in) {
        Rng r(9);
        return triplet_loss(l2norm(in[0]), l2norm(in[1]), ids, o, r);
    };
    CHECK_GRAD(f, {rnd({5, 3}, 1), rnd({5, 3}, 2)});
}

static void check_metrics(const RetrievalMetrics& m, const Json& j) {
    for (auto [name, d] : {std::pair<const char*, const DirectionMetrics*>{"i2t", &m.i2t}, {"t2i", &m.t2i}}) {
        CAPTURE(name);
        CHECK(d->r1 == doctest::Approx(j[name]["r1"].as_double()));
        CHECK(d->r5 == doctest::Approx(j[name]["r5"].as_double()));
        CHECK(d->r10 == doctest::Approx(j[name]["r10"].as_double()));
        CHECK(d->medr == doctest::Approx(j[name]["medr"].as_double()));
        CHECK(d->meanr == doctest::Approx(j[name]["meanr"].as_double()));
    }
    CHECK(m.rsum == doctest::Approx(j["rsum"].as_double()));
}

TEST_CASE("metrics: equal the reference's loops on a matrix full of ties, and COCO 5-fold") {
    Json want = Json::parse_file(fixture("loss/metrics.json"));
    NpyArray a = npy_open(fixture("loss/metrics_sims.npy"));
    std::vector<double> s(a.numel());
    for (int64_t i = 0; i < a.numel(); i++) s[i] = a.at(i);
    check_metrics(retrieval_metrics(s, 30, 150), want["single"]);
    NpyArray b = npy_open(fixture("loss/metrics_sims5.npy"));
    std::vector<double> s5(b.numel());
    for (int64_t i = 0; i < b.numel(); i++) s5[i] = b.at(i);
    check_metrics(retrieval_metrics_5fold(s5, 20, 100), want["fold5"]);
    // by hand: identity-like 2 x 10, perfect retrieval
    std::vector<double> p(2 * 10, 0.0);
    for (int c = 0; c < 10; c++) p[(c / 5) * 10 + c] = 1.0;
    RetrievalMetrics m = retrieval_metrics(p, 2, 10);
    CHECK(m.rsum == 600.0);
    CHECK(m.i2t.medr == 1.0);
    CHECK(metrics_table("x", m).find("600.0") != std::string::npos);
    CHECK(Json::parse(metrics_json(m))["rsum"].as_double() == 600.0);
    CHECK_THROWS_WITH(retrieval_metrics(p, 3, 10), doctest::Contains("expected an (N, 5 N) matrix"));
}
