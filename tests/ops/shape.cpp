// The shape slice: reshape, narrow, concat, permute, transpose (kernels/shape.*, src/ops/shape.cpp).
#include "op_test.h"

OP_TEST(shape, "views and copies: narrow, concat, permute, transpose", {0}) {
    return {
        OpCase("reshape + narrow (a view and a copy) + concat", {rnd({2, 2, 6}, 41)},
               [](Inputs x) {
                   Tensor r = reshape(x[0], {4, 6});
                   return concat({narrow(r, 0, 1, 2), reshape(narrow(x[0], 2, 1, 3), {2, 6})}, 0);
               }),
        OpCase("concat along the last dim, three parts", {rnd({3, 2}, 1), rnd({3, 5}, 2), rnd({3, 1}, 3)},
               [](Inputs x) { return concat({x[0], x[1], x[2]}, 1); }),
        OpCase("narrow to one column", {rnd({4, 33}, 4)}, [](Inputs x) { return narrow(x[0], 1, 32, 1); }),
        OpCase("permute 4-d", {rnd({2, 3, 4, 5}, 42)}, [](Inputs x) { return permute(x[0], {2, 0, 3, 1}); }),
        OpCase("transpose the last two", {rnd({3, 7, 33}, 5)}, [](Inputs x) { return transpose(x[0], 1, 2); }),
        OpCase("permute an empty tensor", {rnd({2, 0, 3}, 6)}, [](Inputs x) { return permute(x[0], {2, 1, 0}); }),
    };
}
