// The cdist slice: pairwise Euclidean distances (kernels/cdist.*, src/ops/cdist.cpp).
#include "op_test.h"

OP_TEST(cdist, "pairwise distances; a zero distance has a zero gradient", {0}) {
    return {
        OpCase("4 x 3 against 5 x 3", {rnd({4, 3}, 23), rnd({5, 3}, 24)}, [](Inputs x) { return cdist(x[0], x[1]); }),
        OpCase("a set against itself (zero diagonal)", {rnd({4, 3}, 25)}, [](Inputs x) { return cdist(x[0], x[0]); }).no_gradcheck(),
        OpCase("D 1", {rnd({3, 1}, 26), rnd({2, 1}, 27)}, [](Inputs x) { return cdist(x[0], x[1]); }),
        OpCase("17 x 33 against 9 x 33", {rnd({17, 33}, 28), rnd({9, 33}, 29)}, [](Inputs x) { return cdist(x[0], x[1]); }).no_gradcheck(),
    };
}
