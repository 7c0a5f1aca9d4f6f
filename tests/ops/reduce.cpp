// The reduce slice: sums, means and maxima along a dim (kernels/reduce.*, src/ops/reduce.cpp).
#include "op_test.h"

OP_TEST(reduce, "sum, mean and max along a dim, and whole-tensor sums", {0}) {
    return {
        OpCase("sum along the middle dim", {rnd({3, 4, 5}, 10)}, [](Inputs x) { return sum(x[0], 1); }),
        OpCase("mean along the last dim, keepdim", {rnd({3, 4, 5}, 11)}, [](Inputs x) { return mean(x[0], -1, true); }),
        OpCase("sum of everything", {rnd({6, 7}, 12)}, [](Inputs x) { return sum(x[0] * x[0]); }),
        OpCase("mean of everything, 1 element", {rnd({1}, 13)}, [](Inputs x) { return mean(x[0]); }),
        OpCase("sum over a dim of 0", {rnd({3, 0, 2}, 14)}, [](Inputs x) { return sum(x[0], 1); }),
        OpCase("sum over rows of 129", {rnd({3, 129}, 15)}, [](Inputs x) { return sum(x[0], 1); }).no_gradcheck(),
        OpCase("max: values and indices", {distinct({3, 6, 2}, 16)}, [](Inputs x) { return max(x[0], 1); }),
        OpCase("max with ties: the first index wins", {T({2, 3}, {1, 3, 3, 2, 2, 0})},
               [](Inputs x) { return max(x[0], 1); }).no_gradcheck(),
    };
}
