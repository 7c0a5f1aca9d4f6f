// The layernorm slice (kernels/layernorm.*, src/ops/layernorm.cpp).
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
