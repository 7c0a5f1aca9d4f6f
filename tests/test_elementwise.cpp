// Elementwise ops: values against hand-computed / closed-form expectations; gradients.
#include "helpers.h"

TEST_CASE("binary ops with broadcasting: values") {
    Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor row = T({3}, {10, 20, 30}), col = T({2, 1}, {100, 200});
    CHECK((a + row).to_vector() == std::vector<float>{11, 22, 33, 14, 25, 36});
    CHECK((a - col).to_vector() == std::vector<float>{-99, -98, -97, -196, -195, -194});
    CHECK((a * row).to_vector() == std::vector<float>{10, 40, 90, 40, 100, 180});
    CHECK((row / T({1}, {10})).to_vector() == std::vector<float>{1, 2, 3});
    CHECK((col + row).shape() == Shape{2, 3});  // both sides broadcast
    CHECK((T({2, 1, 3}, std::vector<float>(6, 1)) * T({4, 1}, std::vector<float>(4, 2))).shape() == Shape{2, 4, 3});
    CHECK_THROWS_WITH(a + T({2}, {1, 2}), doctest::Contains("shapes (2, 3) and (2,) do not broadcast"));
}

TEST_CASE("binary ops: gradients reduce over broadcast dims") {
    Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad();
    Tensor r = T({3}, {1, 1, 1}).requires_grad();
    backward(sum(a * r));
    CHECK(r.grad_tensor().to_vector() == std::vector<float>{5, 7, 9});  // column sums of a
    for (auto op : {0, 1, 2, 3}) {
        CAPTURE(op);
        auto f = [op](std::vector<Tensor>& in) {
            switch (op) {
                case 0: return in[0] + in[1];
                case 1: return in[0] - in[1];
                case 2: return in[0] * in[1];
                default: return in[0] / in[1];
            }
        };
        CHECK_GRAD(f, {rnd({2, 3, 4}, 1), rnd({3, 1}, 2, 0.5f, 2.0f)});
        CHECK_GRAD(f, {rnd({1, 4}, 3), rnd({3, 1}, 4, 0.5f, 2.0f)});
    }
}

TEST_CASE("scalar ops: values and gradients") {
    Tensor a = T({3}, {1, -2, 4});
    CHECK((a + 1.5f).to_vector() == std::vector<float>{2.5f, -0.5f, 5.5f});
    CHECK((a * -2.0f).to_vector() == std::vector<float>{-2, 4, -8});
    CHECK((1.0f - a).to_vector() == std::vector<float>{0, 3, -3});
    CHECK((a / 4.0f).to_vector() == std::vector<float>{0.25f, -0.5f, 1});
    CHECK((-a).to_vector() == std::vector<float>{-1, 2, -4});
    CHECK_GRAD([](std::vector<Tensor>& in) { return (in[0] + 3.0f) * 0.5f; }, {rnd({2, 3}, 5)});
}

// unary ops: f against a closed form evaluated in double at awkward points
TEST_CASE("unary ops: values") {
    std::vector<float> xs = {-2.5f, -1.0f, -0.3f, 0.2f, 0.7f, 1.9f};
    Tensor x = T({6}, xs), xp = T({6}, {0.1f, 0.5f, 1.0f, 2.0f, 3.5f, 9.0f});
    auto close = [](const Tensor& t, std::function<double(double)> f, const std::vector<float>& in) {
        std::vector<float> v = t.to_vector();
        for (size_t i = 0; i < in.size(); i++) CHECK(v[i] == doctest::Approx(f(in[i])).epsilon(1e-6));
    };
    std::vector<float> pos = xp.to_vector();
    close(exp(x), [](double v) { return std::exp(v); }, xs);
    close(log(xp), [](double v) { return std::log(v); }, pos);
    close(sqrt(xp), [](double v) { return std::sqrt(v); }, pos);
    close(pow(xp, 1.5f), [](double v) { return std::pow(v, 1.5); }, pos);
    close(pow(x, 2.0f), [](double v) { return v * v; }, xs);
    close(abs(x), [](double v) { return std::fabs(v); }, xs);
    close(relu(x), [](double v) { return v > 0 ? v : 0; }, xs);
    close(leaky_relu(x, 0.1f), [](double v) { return v > 0 ? v : 0.1 * v; }, xs);
    close(tanh(x), [](double v) { return std::tanh(v); }, xs);
    close(sigmoid(x), [](double v) { return 1 / (1 + std::exp(-v)); }, xs);
    close(clamp(x, -1.0f, 0.5f), [](double v) { return v < -1 ? -1 : (v > 0.5 ? 0.5 : v); }, xs);
    close(gelu(x), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, xs);
    // known GELU values (erf form): gelu(1) = 0.8413447, gelu(-1) = -0.1586553
    CHECK(gelu(T({2}, {1, -1})).to_vector()[0] == doctest::Approx(0.8413447).epsilon(1e-6));
    CHECK(gelu(T({2}, {1, -1})).to_vector()[1] == doctest::Approx(-0.1586553).epsilon(1e-6));
    CHECK(exp(T({0}, {})).numel() == 0);  // empty
}

TEST_CASE("unary ops: gradcheck (inputs away from kinks)") {
    Tensor x = rnd({3, 5}, 11, -2.0f, 2.0f);
    Tensor away = distinct({3, 5}, 12);          // |x| >= 0.05: no kink at 0
    Tensor pos = rnd({3, 5}, 13, 0.3f, 3.0f);
    CHECK_GRAD([](std::vector<Tensor>& in) { return exp(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return log(in[0]); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return sqrt(in[0]); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return pow(in[0], 2.5f); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return abs(in[0]); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return relu(in[0]); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return leaky_relu(in[0], 0.1f); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return gelu(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return tanh(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return sigmoid(in[0]); }, {x});
    // clamp bounds chosen between the distinct values (which sit at 0.05 + 0.1 k)
    CHECK_GRAD([](std::vector<Tensor>& in) { return clamp(in[0], -0.3f, 0.4f); }, {away});
}
