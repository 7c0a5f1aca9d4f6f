// The l2norm slice (kernels/l2norm.*, src/ops/l2norm.cpp).
#include "../../kernels/l2norm.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(l2norm, "x / (||x|| + eps) along the last dim, a zero row included", {1, 2}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 31, 32, 33, 300}) {
        Tensor x = rnd({5, n}, n);
        for (int64_t k = 0; k < n; k++) x.data()[n + k] = 0.0f;  // a zero row: its gradient is dy / eps
        OpCase c("5 x " + std::to_string(n), {x}, [](Inputs in) { return l2norm(in[0]); });
        cases.push_back(c.no_gradcheck());  // the zero row has a huge (1/eps) slope: differenced below
    }
    cases.push_back(OpCase("no zero row, 4 x 9", {rnd({4, 9}, 35)}, [](Inputs in) { return l2norm(in[0]); }));
    cases.push_back(OpCase("no row", {rnd({0, 9}, 36)}, [](Inputs in) { return l2norm(in[0]); }));
    return cases;
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

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

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_l2norm() {
    for (int v : {1, 2})
        for (int64_t rows : {1, 5, 33})
            for (int64_t n : {1, 31, 32, 33, 300}) {
                CAPTURE(v); CAPTURE(rows); CAPTURE(n);
                std::vector<float> x = randv(rows * n, 1 + n), dy = randv(rows * n, 2 + n);
                if (rows > 2) std::fill(x.begin() + n, x.begin() + 2 * n, 0.0f);  // a zero row
                std::vector<float> y(rows * n), nr(rows), dx(rows * n, 0.5f);
                l2norm_forward_cpu(y.data(), nr.data(), x.data(), rows, n, 1e-8f);
                l2norm_backward_cpu(dx.data(), dy.data(), x.data(), nr.data(), rows, n, 1e-8f);
                Buf<Bk> X(x), Y(rows * n), N(rows), DY(dy), DX(std::vector<float>(rows * n, 0.5f));
                VSD_RUN(Bk{}, l2norm_forward)(Y.d, N.d, X.d, rows, n, 1e-8f, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(N.get(), nr, 1e-6f, 1e-5f);
                VSD_RUN(Bk{}, l2norm_backward)(DX.d, DY.d, X.d, N.d, rows, n, 1e-8f);
                CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);  // accumulates into 0.5, as the CPU does
            }
}
KERNEL_PARITY(parity_l2norm, "l2norm forward (v1, v2) and backward")

OP_TEST(unit_rows, "F.normalize in double: x / max(||x||, eps), a zero row included; no gradient", {0}) {
    Tensor z = rnd({3, 33}, 41);
    for (int64_t k = 0; k < 33; k++) z.data()[33 + k] = 0.0f;
    return {
        OpCase("3 x 33, a zero row", {z}, [](Inputs x) { return unit_rows(x[0]); }).forward_only(),
        OpCase("300 x 5", {rnd({300, 5}, 42)}, [](Inputs x) { return unit_rows(x[0]); }).forward_only(),
        OpCase("1 x 1", {T({1, 1}, {-2})}, [](Inputs x) { return unit_rows(x[0]); }).forward_only(),
        OpCase("no row", {rnd({0, 4}, 43)}, [](Inputs x) { return unit_rows(x[0]); }).forward_only(),
    };
}

TEST_CASE("op unit_rows: hand-computed, eps clamps the norm instead of adding to it") {
    CHECK(unit_rows(T({2, 2}, {3, 4, 0, 0})).to_vector() == std::vector<float>{0.6f, 0.8f, 0, 0});
    CHECK(unit_rows(T({1, 2}, {0.3f, 0.4f}), 1.0).to_vector() == std::vector<float>{0.3f, 0.4f});  // ||x|| = 0.5 < 1
}
