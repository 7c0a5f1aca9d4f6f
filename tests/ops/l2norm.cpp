// The l2norm slice (kernels/l2norm.*, src/ops/l2norm.cpp).
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
