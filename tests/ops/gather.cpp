// The gather slice: gather and index_select (kernels/gather.*, src/ops/gather.cpp).
#include "op_test.h"

OP_TEST(gather, "gather along a dim and index_select; repeated indices scatter-add", {0}) {
    return {
        OpCase("gather dim 1, repeats", {rnd({2, 3}, 45), Tensor::from_i64({2, 2}, {2, 0, 1, 1})},
               [](Inputs x) { return gather(x[0], 1, x[1]); }),
        OpCase("gather dim 0 of (4, 3, 2)", {rnd({4, 3, 2}, 46), Tensor::from_i64({2, 3, 2}, {0, 1, 2, 3, 3, 3, 1, 1, 0, 0, 2, 2})},
               [](Inputs x) { return gather(x[0], 0, x[1]); }),
        OpCase("index_select dim 1", {rnd({2, 3}, 47), Tensor::from_i64({2}, {0, 2})},
               [](Inputs x) { return index_select(x[0], 1, x[1]); }),
        OpCase("index_select dim 0, repeats, 33 wide", {rnd({5, 33}, 48), Tensor::from_i32({4}, {4, 0, 4, 1})},
               [](Inputs x) { return index_select(x[0], 0, x[1]); }),
        OpCase("300 lookups of 2 rows: many adds to one address", {rnd({2, 1}, 49), Tensor::from_i64({300, 1}, std::vector<int64_t>(300, 1))},
               [](Inputs x) { return gather(x[0], 0, x[1]); }).no_gradcheck(),
    };
}
