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
