// The sort slice: sort and top-k (kernels/sort.*, src/ops/sort.cpp).
#include "op_test.h"

OP_TEST(sort, "stable sort and top-k along a dim, both orders", {0}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 2, 33}) {
        const std::string l = std::to_string(n) + " per line";
        cases.push_back(OpCase("sort descending, dim 1, " + l, {distinct({4, n, 2}, n)}, [](Inputs x) { return sort(x[0], 1, true); }));
        cases.push_back(OpCase("sort ascending, last dim, " + l, {distinct({3, n}, n + 1)}, [](Inputs x) { return sort(x[0]); }));
    }
    cases.push_back(OpCase("topk 3 largest", {distinct({4, 7}, 9)}, [](Inputs x) { return topk(x[0], 3, 1); }));
    cases.push_back(OpCase("topk 2 smallest, dim 0", {distinct({5, 3}, 10)}, [](Inputs x) { return topk(x[0], 2, 0, false); }));
    cases.push_back(OpCase("ties keep their order", {T({2, 4}, {1, 2, 1, 2, 3, 3, 3, 0})}, [](Inputs x) { return sort(x[0], 1, true); })
                        .no_gradcheck());
    cases.push_back(OpCase("NaN sorts above every number", {T({1, 4}, {0.5f, NAN, -1.0f, 2.0f})},
                           [](Inputs x) { return sort(x[0], 1, true); }).forward_only());
    return cases;
}
