// The gemm slice: matmul and linear (kernels/gemm.*, src/ops/gemm.cpp). Versions 1 (naive), 2
// (shared-memory tiles) and 3 (cuBLAS, or its column-major emulation) run every case.
#include "op_test.h"

OP_TEST(gemm, "matmul (2-d, batched, shared b, every transpose) and linear", {1, 2, 3}) {
    std::vector<OpCase> cases;
    cases.push_back(OpCase("5 x 3 @ 3 x 4", {rnd({5, 3}, 14), rnd({3, 4}, 15)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    cases.push_back(OpCase("33 x 17 @ 17 x 65 (past a tile)", {rnd({33, 17}, 16), rnd({17, 65}, 17)},
                           [](Inputs x) { return matmul(x[0], x[1]); }).no_gradcheck());
    cases.push_back(OpCase("1 x 1 @ 1 x 1", {rnd({1, 1}, 18), rnd({1, 1}, 19)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    cases.push_back(OpCase("K 0: a zero product", {rnd({3, 0}, 20), rnd({0, 2}, 21)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (bool shared : {false, true}) {
                const int64_t M = 3, K = 5, N = 4;
                Shape sa = ta ? Shape{2, 3, K, M} : Shape{2, 3, M, K};
                Shape sb = tb ? Shape{N, K} : Shape{K, N};
                if (!shared) sb.insert(sb.begin(), {2, 3});
                const std::string l = std::string("4-d batch") + (ta ? ", a^T" : "") + (tb ? ", b^T" : "") + (shared ? ", b shared" : "");
                cases.push_back(OpCase(l, {rnd(sa, 40), rnd(sb, 41)}, [=](Inputs x) { return matmul(x[0], x[1], ta, tb); }));
            }
    cases.push_back(OpCase("linear (2, 3, 6) -> 5", {rnd({2, 3, 6}, 20), rnd({5, 6}, 21), rnd({5}, 22)},
                           [](Inputs x) { return linear(x[0], x[1], x[2]); }));
    cases.push_back(OpCase("linear without bias", {rnd({4, 6}, 23), rnd({3, 6}, 24)}, [](Inputs x) { return linear(x[0], x[1]); }));
    return cases;
}
