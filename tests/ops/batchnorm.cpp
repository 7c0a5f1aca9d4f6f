// The batchnorm slice (kernels/batchnorm.*, src/ops/batchnorm.cpp).
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
