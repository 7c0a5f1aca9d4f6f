// The dropout slice (kernels/dropout.*, src/ops/dropout.cpp).
#include "../../kernels/dropout.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(dropout, "inverted dropout: the same seed drops the same elements on every device", {0}) {
    auto drop = [](float p) {
        return [p](Inputs x) {
            Rng r(5);  // a fresh generator per call: every run draws the same seed
            return dropout(x[0], p, true, r);
        };
    };
    return {
        OpCase("p 0.3, 6 x 11", {rnd({6, 11}, 39)}, drop(0.3f)),
        OpCase("p 0.5, 1000 elements", {rnd({1000}, 40)}, drop(0.5f)).no_gradcheck(),
        OpCase("p 0 keeps everything", {rnd({3, 3}, 41)}, drop(0.0f)),
        OpCase("no element", {rnd({0}, 42)}, drop(0.2f)),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

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

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_dropout() {
    // dropout: the same counter-based mask on both sides, forward and backward (exactly)
    {
        std::vector<float> xv = randv(120, 10);
        Buf<Bk> X(xv);
        std::vector<float> y(120), dy = randv(120, 15), dx(120, 0.5f);
        dropout_forward_cpu(y.data(), xv.data(), 120, 0.3f, 77);
        dropout_backward_cpu(dx.data(), dy.data(), 120, 0.3f, 77);
        Buf<Bk> Y(120), DY(dy), DX(std::vector<float>(120, 0.5f));
        VSD_RUN(Bk{}, dropout_forward)(Y.d, X.d, 120, 0.3f, 77);
        VSD_RUN(Bk{}, dropout_backward)(DX.d, DY.d, 120, 0.3f, 77);
        CHECK_PARITY(Y.get(), y, 0.0f, 0.0f);
        CHECK_PARITY(DX.get(), dx, 0.0f, 0.0f);
    }
}
KERNEL_PARITY(parity_dropout, "dropout forward and backward, the same mask exactly")
