// The softmax slice (kernels/softmax.*, src/ops/softmax.cpp).
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
