// Reductions and neural-network layers: values from hand calculations or independent double
// formulas; gradients by central differences.
#include "helpers.h"

TEST_CASE("sum / mean / max along a dim: values, keepdim, edge shapes") {
    Tensor a = T({2, 3}, {1, 5, 3, 4, 2, 6});
    CHECK(sum(a, 0).to_vector() == std::vector<float>{5, 7, 9});
    CHECK(sum(a, 1).to_vector() == std::vector<float>{9, 12});
    CHECK(sum(a, -1, true).shape() == Shape{2, 1});
    CHECK(mean(a, 1).to_vector() == std::vector<float>{3, 4});
    CHECK(sum(a).item() == 21.0f);
    CHECK(sum(a).shape() == Shape{});
    CHECK(mean(a).item() == 3.5f);
    auto [mv, mi] = max(a, 1);
    CHECK(mv.to_vector() == std::vector<float>{5, 6});
    CHECK(mi.to_vector() == std::vector<float>{1, 2});
    auto [cv, ci] = max(a, 0, true);
    CHECK(cv.shape() == Shape{1, 3});
    CHECK(cv.to_vector() == std::vector<float>{4, 5, 6});
    CHECK(ci.to_vector() == std::vector<float>{1, 0, 1});
    CHECK(max(T({1, 3}, {2, 2, 1}), 1).second.to_vector()[0] == 0);  // ties: the first index
    CHECK(sum(T({0, 4}, {}), 0).to_vector() == std::vector<float>{0, 0, 0, 0});  // empty batch sums to 0
    CHECK(sum(T({3, 1, 2}, {1, 2, 3, 4, 5, 6}), 1).shape() == Shape{3, 2});   // size-1 dim
    CHECK_THROWS_WITH(max(T({2, 0}, {}), 1), doctest::Contains("empty dim"));
}

TEST_CASE("sum / mean / max: gradcheck") {
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        CHECK_GRAD([d](std::vector<Tensor>& in) { return sum(in[0], d); }, {rnd({2, 3, 4}, 1)});
        CHECK_GRAD([d](std::vector<Tensor>& in) { return mean(in[0], d, true); }, {rnd({2, 3, 4}, 2)});
        CHECK_GRAD([d](std::vector<Tensor>& in) { return max(in[0], d).first; }, {distinct({2, 3, 4}, 3)});
    }
    CHECK_GRAD([](std::vector<Tensor>& in) { return mean(in[0]); }, {rnd({3, 5}, 4)});
}

// softmax in double from the definition
static std::vector<double> softmax_ref(const std::vector<float>& x, const std::vector<float>& keep) {
    double m = -1e300, z = 0;
    for (size_t i = 0; i < x.size(); i++) if (keep[i]) m = std::max(m, (double)x[i]);
    for (size_t i = 0; i < x.size(); i++) if (keep[i]) z += std::exp(x[i] - m);
    std::vector<double> p(x.size());
    for (size_t i = 0; i < x.size(); i++) p[i] = keep[i] ? std::exp(x[i] - m) / z : 0.0;
    return p;
}

TEST_CASE("softmax / log_softmax: values, mask, large inputs, fully masked row") {
    // softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8
    Tensor s = softmax(T({1, 3}, {0.0f, std::log(2.0f), std::log(5.0f)}));
    CHECK(s.to_vector()[0] == doctest::Approx(0.125).epsilon(1e-6));
    CHECK(s.to_vector()[2] == doctest::Approx(0.625).epsilon(1e-6));
    // stability: huge logits do not overflow
    Tensor big = softmax(T({1, 2}, {1000.0f, 1000.0f}));
    CHECK(big.to_vector() == std::vector<float>{0.5f, 0.5f});
    std::vector<float> x = {0.3f, -1.2f, 2.0f, 0.7f, 1.1f}, keep = {1, 0, 1, 1, 0};
    Tensor xm = T({1, 5}, x), mask = T({1, 5}, keep);
    std::vector<double> ref = softmax_ref(x, keep);
    std::vector<float> got = softmax(xm, mask).to_vector(), lgot = log_softmax(xm, mask).to_vector();
    for (int i = 0; i < 5; i++) {
        CHECK(got[i] == doctest::Approx(ref[i]).epsilon(1e-6));
        if (keep[i]) CHECK(lgot[i] == doctest::Approx(std::log(ref[i])).epsilon(1e-6));
        else CHECK(std::isinf(lgot[i]));
    }
    // an integer mask works the same
    CHECK(softmax(xm, Tensor::from_i64({1, 5}, {1, 0, 1, 1, 0})).to_vector() == got);
    // a fully masked row gives zeros, not NaN
    std::vector<float> z = softmax(T({2, 2}, {1, 2, 3, 4}), T({2, 2}, {0, 0, 1, 1})).to_vector();
    CHECK(z[0] == 0.0f);
    CHECK(z[1] == 0.0f);
    CHECK(z[2] + z[3] == doctest::Approx(1.0));
    CHECK(softmax(T({1, 1}, {7})).to_vector()[0] == 1.0f);  // length 1
}

TEST_CASE("softmax / log_softmax: gradcheck with and without mask") {
    Tensor mask = T({3, 4}, {1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1});
    CHECK_GRAD([](std::vector<Tensor>& in) { return softmax(in[0]); }, {rnd({3, 4}, 1, -2, 2)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return log_softmax(in[0]); }, {rnd({2, 3, 4}, 2, -2, 2)});
    CHECK_GRAD([mask](std::vector<Tensor>& in) { return softmax(in[0], mask); }, {rnd({3, 4}, 3, -2, 2)});
    // masked positions are -inf by design; zero them so the weighted sum of outputs is finite
    Tensor unmasked = 1.0f - mask;
    CHECK_GRAD([mask, unmasked](std::vector<Tensor>& in) { return masked_fill(log_softmax(in[0], mask), unmasked, 0.0f); },
               {rnd({3, 4}, 4, -2, 2)});
}

TEST_CASE("layernorm: values and gradcheck") {
    // row [1, 2, 3]: mean 2, biased var 2/3, xhat = [-1, 0, 1] * sqrt(3/2) (eps 0 for the check)
    Tensor y = layernorm(T({1, 3}, {1, 2, 3}), T({3}, {1, 1, 2}), T({3}, {0, 0.5f, 0}), 0.0f);
    double s = std::sqrt(1.5);
    CHECK(y.to_vector()[0] == doctest::Approx(-s).epsilon(1e-6));
    CHECK(y.to_vector()[1] == doctest::Approx(0.5).epsilon(1e-6));
    CHECK(y.to_vector()[2] == doctest::Approx(2 * s).epsilon(1e-6));
    CHECK_GRAD([](std::vector<Tensor>& in) { return layernorm(in[0], in[1], in[2]); },
               {rnd({2, 3, 6}, 1), rnd({6}, 2, 0.5f, 1.5f), rnd({6}, 3)});
}

TEST_CASE("batchnorm1d: training statistics, running update, eval mode; gradcheck") {
    // channel 0 = [1, 3] (mean 2, var 1; unbiased 2); channel 1 = [2, -2] (mean 0, var 4; unbiased 8)
    Tensor x = T({2, 2}, {1, 2, 3, -2}), w = T({2}, {1, 1}), b = T({2}, {0, 10});
    Tensor rm = T({2}, {0, 0}), rv = T({2}, {1, 1});
    Tensor y = batchnorm1d(x, w, b, rm, rv, true, 0.1f, 0.0f);
    CHECK(y.to_vector() == std::vector<float>{-1, 11, 1, 9});
    CHECK(rm.to_vector()[0] == doctest::Approx(0.2));            // 0.9*0 + 0.1*2
    CHECK(rv.to_vector()[0] == doctest::Approx(0.9 + 0.1 * 2));  // unbiased var 2
    CHECK(rv.to_vector()[1] == doctest::Approx(0.9 + 0.1 * 8));
    // eval: uses running stats (x - 0.2) / sqrt(1.1)
    Tensor ye = batchnorm1d(T({1, 2}, {1.2f, 0}), w, b, rm, rv, false, 0.1f, 0.0f);
    CHECK(ye.to_vector()[0] == doctest::Approx(1.0 / std::sqrt(1.1)).epsilon(1e-6));
    CHECK(rm.to_vector()[0] == doctest::Approx(0.2));  // eval does not move the statistics
    Tensor rm2 = Tensor::zeros({3}), rv2 = Tensor::ones({3});
    CHECK_GRAD([&](std::vector<Tensor>& in) { return batchnorm1d(in[0], in[1], in[2], rm2, rv2, true); },
               {rnd({5, 3}, 1, -2, 2), rnd({3}, 2, 0.5f, 1.5f), rnd({3}, 3)});
    CHECK_GRAD([&](std::vector<Tensor>& in) { return batchnorm1d(in[0], in[1], in[2], rm2, rv2, false); },
               {rnd({4, 3}, 4), rnd({3}, 5, 0.5f, 1.5f), rnd({3}, 6)});
    CHECK_THROWS_WITH(batchnorm1d(T({1, 2}, {1, 2}), w, b, rm, rv, true), doctest::Contains("more than 1 row"));
}

TEST_CASE("dropout: seeded, scaled, identity in eval; gradcheck") {
    Tensor x = Tensor::ones({10000});
    Rng r1(7), r2(7);
    std::vector<float> a = dropout(x, 0.25f, true, r1).to_vector(), b = dropout(x, 0.25f, true, r2).to_vector();
    CHECK(a == b);  // same seed, same mask
    int zeros = 0;
    for (float v : a) {
        CHECK((v == 0.0f || v == doctest::Approx(1.0f / 0.75f)));
        zeros += v == 0.0f;
    }
    CHECK(std::abs(zeros - 2500) < 4 * 43);  // binomial(10000, 0.25): sd 43
    // the counter-based draws of neighbours are independent: both of a pair dropped p^2 of the
    // time (625 of 9999 pairs, sd ~23), and a second call (the next seed) gives another mask
    int both = 0;
    for (size_t i = 0; i + 1 < a.size(); i++) both += a[i] == 0.0f && a[i + 1] == 0.0f;
    CHECK(std::abs(both - 625) < 4 * 25);
    std::vector<float> c = dropout(x, 0.25f, true, r1).to_vector();
    int same = 0;
    for (size_t i = 0; i < a.size(); i++) same += (a[i] == 0.0f) == (c[i] == 0.0f);
    CHECK(std::abs(same - 6250) < 4 * 49);  // agree with probability 0.25^2 + 0.75^2 = 0.625
    Rng r3(7);
    CHECK(dropout(x, 0.25f, false, r3).to_vector() == x.to_vector());
    CHECK_GRAD([](std::vector<Tensor>& in) { Rng r(3); return dropout(in[0], 0.5f, true, r); }, {rnd({4, 5}, 1)});
}

TEST_CASE("embedding: rows by id, repeated ids accumulate gradient") {
    Tensor table = T({3, 2}, {0, 1, 10, 11, 20, 21});
    Tensor ids = Tensor::from_i64({2, 2}, {2, 0, 2, 1});
    Tensor y = embedding(ids, table);
    CHECK(y.shape() == Shape{2, 2, 2});
    CHECK(y.to_vector() == std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11});
    table.requires_grad();
    backward(sum(embedding(ids, table)));
    CHECK(table.grad_tensor().to_vector() == std::vector<float>{1, 1, 1, 1, 2, 2});
    CHECK_THROWS_WITH(embedding(Tensor::from_i64({1}, {3}), table), doctest::Contains("index 3 at position 0 is outside [0, 3)"));
    Tensor ids32 = Tensor::from_i32({3}, {1, 1, 0});
    CHECK_GRAD([ids32](std::vector<Tensor>& in) { return embedding(ids32, in[0]); }, {rnd({4, 3}, 1)});
}

TEST_CASE("l2norm: the reference's epsilon placement, zero rows, gradcheck") {
    Tensor y = l2norm(T({2, 2}, {3, 4, 0, 0}));
    CHECK(y.to_vector()[0] == doctest::Approx(3.0 / (5.0 + 1e-8)).epsilon(1e-7));
    CHECK(y.to_vector()[1] == doctest::Approx(0.8).epsilon(1e-7));
    CHECK(y.to_vector()[2] == 0.0f);  // zero row stays zero, no NaN
    // eps is added to the norm (x / (|x| + eps)), not inside the sqrt: visible with a big eps
    Tensor e = l2norm(T({1, 2}, {3, 4}), 1.0f);
    CHECK(e.to_vector()[0] == doctest::Approx(0.5).epsilon(1e-7));
    CHECK_GRAD([](std::vector<Tensor>& in) { return l2norm(in[0]); }, {rnd({3, 7}, 1)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return l2norm(in[0], 0.5f); }, {rnd({2, 1, 5}, 2)});
    // gradient at a zero row is finite
    Tensor z = T({1, 3}, {0, 0, 0}).requires_grad();
    backward(sum(l2norm(z)));
    for (float g : z.grad_tensor().to_vector()) CHECK(std::isfinite(g));
}
