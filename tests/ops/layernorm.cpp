// The layernorm slice (kernels/layernorm.*, src/ops/layernorm.cpp).
#include "../../kernels/layernorm.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(layernorm, "LayerNorm over the last dim", {0}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 33, 130}) {
        cases.push_back(OpCase("rows of " + std::to_string(n), {rnd({3, 2, n}, n), rnd({n}, n + 1), rnd({n}, n + 2)},
                               [](Inputs x) { return layernorm(x[0], x[1], x[2]); }).gradcheck_tol(2e-3, 2e-2));
    }
    cases.push_back(OpCase("no row", {rnd({0, 8}, 3), rnd({8}, 4), rnd({8}, 5)},
                           [](Inputs x) { return layernorm(x[0], x[1], x[2]); }));
    return cases;
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

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

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_layernorm() {
    // layernorm forward and backward
    for (int64_t rows : {1, 7, 100})
        for (int64_t n : {1, 32, 33, 768}) {
            CAPTURE(rows); CAPTURE(n);
            std::vector<float> x = randv(rows * n, n, -2, 2), w = randv(n, n + 1, 0.5f, 1.5f), b = randv(n, n + 2);
            std::vector<float> dy = randv(rows * n, n + 3);
            std::vector<float> y(rows * n), mean(rows), rstd(rows), dx(rows * n, 0.0f), dw(n, 0.0f), db(n, 0.0f);
            layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, 1e-5f);
            layernorm_backward_cpu(dx.data(), dw.data(), db.data(), dy.data(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
            Buf<Bk> X(x), W(w), B(b), Y(rows * n), MEAN(rows), RSTD(rows), DY(dy);
            Buf<Bk> DX(std::vector<float>(rows * n, 0.0f)), DW(std::vector<float>(n, 0.0f)), DB(std::vector<float>(n, 0.0f));
            VSD_RUN(Bk{}, layernorm_forward)(Y.d, MEAN.d, RSTD.d, X.d, W.d, B.d, rows, n, 1e-5f);
            CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
            CHECK_PARITY(RSTD.get(), rstd, 1e-5f, 1e-4f);
            VSD_RUN(Bk{}, layernorm_backward)(DX.d, DW.d, DB.d, DY.d, X.d, MEAN.d, RSTD.d, W.d, rows, n);
            CHECK_PARITY(DX.get(), dx, 1e-4f, 1e-3f);
            CHECK_PARITY(DW.get(), dw, 1e-4f, 1e-3f);
            CHECK_PARITY(DB.get(), db, 1e-4f, 1e-3f);
            // dw and db: the same bits on every run (the emulator alternates the threads' order)
            Buf<Bk> DW2(std::vector<float>(n, 0.0f)), DB2(std::vector<float>(n, 0.0f));
            VSD_RUN(Bk{}, layernorm_backward)(nullptr, DW2.d, DB2.d, DY.d, X.d, MEAN.d, RSTD.d, W.d, rows, n);
            CHECK(DW2.get() == DW.get());
            CHECK(DB2.get() == DB.get());
        }
}
KERNEL_PARITY(parity_layernorm, "layernorm forward and backward (dw, db: the same bits every run)")
