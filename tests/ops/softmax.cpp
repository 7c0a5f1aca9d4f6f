// The softmax slice (kernels/softmax.*, src/ops/softmax.cpp).
#include "../../kernels/softmax.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(softmax, "softmax and log_softmax over the last dim, masks, fully masked rows", {1, 2}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 31, 32, 33, 100}) {
        Tensor keep = Tensor::ones({6, n});
        for (int64_t k = 0; k < n; k += 3) keep.data()[2 * n + k] = 0.0f;  // a partly masked row
        for (int64_t k = 0; k < n; k++) keep.data()[4 * n + k] = 0.0f;     // a fully masked row
        const std::string sz = "6 x " + std::to_string(n);
        cases.push_back(OpCase("softmax " + sz, {rnd({6, n}, n, -4, 4), keep}, [](Inputs x) { return softmax(x[0], x[1]); })
                            .constant({1}));
        cases.push_back(OpCase("log_softmax " + sz, {rnd({6, n}, n + 1, -4, 4), keep},
                               [](Inputs x) { return log_softmax(x[0], x[1]); })
                            .constant({1})
                            .no_gradcheck());  // -inf at masked positions: not differentiable there
    }
    cases.push_back(OpCase("no mask, 3 x 40", {rnd({3, 40}, 31)}, [](Inputs x) { return log_softmax(x[0]); }));
    cases.push_back(OpCase("no row", {rnd({0, 5}, 32)}, [](Inputs x) { return softmax(x[0]); }));
    return cases;
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

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

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_softmax() {
    for (int v : {1, 2})
        for (bool lg : {false, true})
            for (int64_t n : {1, 31, 32, 33, 100}) {
                CAPTURE(v); CAPTURE(lg); CAPTURE(n);
                const int64_t rows = 6;
                std::vector<float> x = randv(rows * n, n, -4, 4), m(rows * n, 1.0f);
                for (int64_t k = 0; k < n; k += 3) m[2 * n + k] = 0.0f;  // a partly masked row
                for (int64_t k = 0; k < n; k++) m[4 * n + k] = 0.0f;     // a fully masked row
                std::vector<float> y(rows * n), y2(rows * n);
                softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
                softmax_forward_cpu(y2.data(), x.data(), nullptr, rows, n, lg);
                Buf<Bk> X(x), M(m), Y(rows * n), Y2(rows * n);
                VSD_RUN(Bk{}, softmax_forward)(Y.d, X.d, M.d, rows, n, lg, v);
                VSD_RUN(Bk{}, softmax_forward)(Y2.d, X.d, nullptr, rows, n, lg, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(Y2.get(), y2, 1e-6f, 1e-5f);
            }
}
KERNEL_PARITY(parity_softmax, "softmax and log-softmax (v1, v2), masks, fully masked rows")

template <class Bk>
void parity_softmax_backward() {
    // softmax backward, both forms, with a partly masked row
    for (bool lg : {false, true})
        for (int64_t n : {1, 31, 33, 100}) {
            CAPTURE(lg); CAPTURE(n);
            const int64_t rows = 5;
            std::vector<float> x = randv(rows * n, n, -3, 3), dy = randv(rows * n, n + 7), m(rows * n, 1.0f);
            for (int64_t k = 0; k < n; k += 2) m[n + k] = 0.0f;
            std::vector<float> y(rows * n), dx(rows * n, 0.5f);
            softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
            softmax_backward_cpu(dx.data(), dy.data(), y.data(), m.data(), rows, n, lg);
            Buf<Bk> Y(y), DY(dy), M(m), DX(std::vector<float>(rows * n, 0.5f));
            VSD_RUN(Bk{}, softmax_backward)(DX.d, DY.d, Y.d, M.d, rows, n, lg);
            CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);
        }
}
KERNEL_PARITY(parity_softmax_backward, "softmax backward, both forms, a partly masked row")
