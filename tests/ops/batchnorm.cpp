// The batchnorm slice (kernels/batchnorm.*, src/ops/batchnorm.cpp).
#include "../../kernels/batchnorm.h"
#include "kernel_parity.h"
#include "op_test.h"

// the output, then the running statistics after the call (compared too)
static std::vector<Tensor> bn(Inputs x, bool training) {
    const int64_t C = x[0].size(1);
    Tensor rm = Tensor::zeros({C}).to(x[0].device()), rv = Tensor::ones({C}).to(x[0].device());
    Tensor y = batchnorm1d(x[0], x[1], x[2], rm, rv, training);
    return {y, rm, rv};
}

OP_TEST(batchnorm, "BatchNorm1d in training (batch statistics, running update) and in eval", {0}) {
    std::vector<OpCase> cases;
    for (int64_t N : {2, 7, 129})
        for (bool training : {true, false}) {
            const std::string l = std::string(training ? "train" : "eval") + ", " + std::to_string(N) + " x 5";
            OpCase c(l, {rnd({N, 5}, N), rnd({5}, 37), rnd({5}, 38)}, [training](Inputs x) { return bn(x, training); });
            if (N > 100) c.no_gradcheck();
            cases.push_back(c.gradcheck_tol(2e-3, 2e-2));
        }
    cases.push_back(OpCase("one channel", {rnd({4, 1}, 1), rnd({1}, 2), rnd({1}, 3)}, [](Inputs x) { return bn(x, true); })
                        .gradcheck_tol(2e-3, 2e-2));
    return cases;
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

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

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_batchnorm() {
    // batchnorm, training and eval
    for (bool training : {true, false}) {
        const int64_t N = 37, C = 5;
        std::vector<float> x = randv(N * C, 21, -2, 2), w = randv(C, 22, 0.5f, 1.5f), b = randv(C, 23), dy = randv(N * C, 24);
        std::vector<float> rm = randv(C, 25), rv = randv(C, 26, 0.5f, 1.5f);
        std::vector<float> y(N * C), mean(C), rstd(C), rm2 = rm, rv2 = rv, dx(N * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
        batchnorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rm2.data(), rv2.data(), N, C, training, 0.1f, 1e-5f);
        batchnorm_backward_cpu(dx.data(), dw.data(), db.data(), dy.data(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
        Buf<Bk> X(x), W(w), B(b), Y(N * C), M(C), R(C), RM(rm), RV(rv), DY(dy);
        Buf<Bk> DX(std::vector<float>(N * C, 0.0f)), DW(std::vector<float>(C, 0.0f)), DB(std::vector<float>(C, 0.0f));
        VSD_RUN(Bk{}, batchnorm_forward)(Y.d, M.d, R.d, X.d, W.d, B.d, RM.d, RV.d, N, C, training, 0.1f, 1e-5f);
        CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
        CHECK_PARITY(RM.get(), rm2, 1e-6f, 1e-5f);
        CHECK_PARITY(RV.get(), rv2, 1e-6f, 1e-5f);
        VSD_RUN(Bk{}, batchnorm_backward)(DX.d, DW.d, DB.d, DY.d, X.d, M.d, R.d, W.d, N, C, training);
        CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);
        CHECK_PARITY(DW.get(), dw, 1e-5f, 1e-4f);
        CHECK_PARITY(DB.get(), db, 1e-5f, 1e-4f);
    }
}
KERNEL_PARITY(parity_batchnorm, "batchnorm in training and eval")
