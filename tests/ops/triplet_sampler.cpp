// The triplet_sampler slice: distance-weighted negatives (kernels/triplet_sampler.*,
// src/ops/triplet_sampler.cpp). The weights against the reference formula run from fixtures in
// tests/test_losses_metrics.cpp; here: the device against the CPU, and the draw by hand.
#include "../../kernels/triplet_sampler.h"
#include "kernel_parity.h"
#include "op_test.h"

// A seeded draw on x[0] = S: the positive pairs and their negatives, as flat indices.
static std::vector<Tensor> draw(const Tensor& S, std::vector<int64_t> ids, double cutoff, bool all_or_nothing = false) {
    TripletSampling o;
    o.cutoff = cutoff;
    o.all_or_nothing = all_or_nothing;
    Rng rng(11);
    TripletDraw d = triplet_negatives(S, ids, o, rng);
    if (d.zeroed) return {Tensor::from_i64({1}, {-7}).to(S.device())};  // a marker, where the op lives
    return {d.pos, d.neg, Tensor::from_i64({1}, {d.skipped}).to(S.device())};
}

OP_TEST(triplet_negatives, "one negative per positive pair, drawn at the host's uniforms; skipped anchors", {0}) {
    std::vector<int64_t> ids33(33);
    for (int64_t i = 0; i < 33; i++) ids33[i] = i / 3;  // 11 images, 3 captions each
    return {
        OpCase("6 samples, repeats", {rnd({6, 6}, 1)}, [](Inputs x) { return draw(x[0], {0, 1, 0, 2, 3, 1}, 1.7); }).forward_only(),
        OpCase("33 samples, 3 per image", {rnd({33, 33}, 2)}, [ids33](Inputs x) { return draw(x[0], ids33, 1.7); }).forward_only(),
        OpCase("tight cutoff: anchors skipped", {rnd({8, 8}, 3)}, [](Inputs x) { return draw(x[0], {0, 1, 2, 3, 4, 5, 6, 7}, 0.9); })
            .forward_only(),
        OpCase("all or nothing", {rnd({8, 8}, 3)}, [](Inputs x) { return draw(x[0], {0, 1, 2, 3, 4, 5, 6, 7}, 0.9, true); })
            .forward_only(),
        OpCase("one sample: no negative", {T({1, 1}, {1})}, [](Inputs x) { return draw(x[0], {0}, 1.7); }).forward_only(),
    };
}

// The weights themselves (doubles) on every device, against the CPU reference.
template <class Bk>
void parity_triplet_weights() {
    for (int64_t B : {1, 5, 40}) {
        CAPTURE(B);
        const std::vector<float> S = randv(B * B, 30 + B);
        std::vector<int64_t> ids(B);
        for (int64_t i = 0; i < B; i++) ids[i] = i / 2;
        std::vector<double> want(B * B);
        std::vector<int64_t> ok_want(B);
        triplet_weights_cpu(want.data(), ok_want.data(), S.data(), ids.data(), B, 512, 0.5, 1.7);
        Buf<Bk> s(S);
        Buf<Bk, int64_t> id(ids), ok(B);
        Buf<Bk, double> w(B * B);
        VSD_RUN(Bk{}, triplet_weights)(w.d, ok.d, s.d, id.d, B, 512, 0.5, 1.7);
        const std::vector<double> got = w.get();
        CHECK(ok.get() == ok_want);
        for (int64_t i = 0; i < B * B; i++) {
            CAPTURE(i);
            CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
        }
    }
}
KERNEL_PARITY(parity_triplet_weights, "distance-weighted sampling weights, in double")

TEST_CASE("op triplet_negatives: the draw by hand") {
    // 3 samples, images 0, 0, 1 (anchor 0 and 1 have one negative, 2; anchor 2 has two, 0 and 1)
    const std::vector<int64_t> ids = {0, 0, 1};
    Tensor S = T({3, 3}, {1, 0.9f, 0.2f, 0.9f, 1, 0.3f, 0.2f, 0.3f, 1});
    TripletSampling o;
    Rng rng(3);
    TripletDraw d = triplet_negatives(S, ids, o, rng);
    CHECK(d.skipped == 0);
    CHECK(d.pos.to_vector() == std::vector<float>{0, 1, 3, 4, 8});  // (0,0) (0,1) (1,0) (1,1) (2,2)
    const std::vector<float> neg = d.neg.to_vector();
    REQUIRE(neg.size() == 5);
    CHECK(neg[0] == 2);  // a*B + 2 for anchors 0 and 1: their only negative
    CHECK(neg[1] == 2);
    CHECK(neg[2] == 5);
    CHECK(neg[3] == 5);
    CHECK((neg[4] == 6 || neg[4] == 7));
    // the draw inverts the CDF: weights 0.25 / 0.75 pick j = 0 below 0.25 and j = 1 from there on
    const double w[3] = {0.25, 0.75, 0};
    CHECK(triplet_draw(w, 3, 0.0) == 0);
    CHECK(triplet_draw(w, 3, 0.2499) == 0);
    CHECK(triplet_draw(w, 3, 0.25) == 1);
    CHECK(triplet_draw(w, 3, 0.9999999) == 1);
    CHECK(triplet_draw(w, 3, 1.5) == 1);  // rounding past the total: the last positive weight
    const double none[2] = {0, 0};
    CHECK(triplet_draw(none, 2, 0.5) == -1);
    // recorded negatives: used as they are, and one with weight 0 is refused with the anchor named
    std::vector<int64_t> rec = {2, 2, 2, 2, 0};
    o.recorded = &rec;
    d = triplet_negatives(S, ids, o, rng);
    CHECK(d.neg.to_vector() == std::vector<float>{2, 2, 5, 5, 6});
    rec = {2, 2, 2, 1, 0};  // anchor 1's pair (1,1) given negative 1: a positive
    CHECK_THROWS_WITH(triplet_negatives(S, ids, o, rng), doctest::Contains("of anchor 1 has weight 0"));
}
