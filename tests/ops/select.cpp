// The select slice: masked_fill and where (kernels/select.*, src/ops/select.cpp).
#include "op_test.h"

OP_TEST(select, "masked_fill and where with broadcast masks", {0}) {
    return {
        OpCase("masked_fill, a (3, 1) mask", {rnd({3, 4}, 43), T({3, 1}, {1, 0, 1})},
               [](Inputs x) { return masked_fill(x[0], x[1], -2.0f); }).constant({1}),
        OpCase("masked_fill, a (2, 1, 5) mask into (2, 3, 5)", {rnd({2, 3, 5}, 44), mask01({2, 1, 5}, 45)},
               [](Inputs x) { return masked_fill(x[0], x[1], 0.0f); }).constant({1}),
        OpCase("where, a (3, 1) condition", {T({3, 1}, {1, 0, 1}), rnd({3, 4}, 46), rnd({3, 4}, 47)},
               [](Inputs x) { return where(x[0], x[1], x[2]); }).constant({0}),
        OpCase("where, 300 elements", {mask01({300}, 48), rnd({300}, 49), rnd({300}, 50)},
               [](Inputs x) { return where(x[0], x[1], x[2]); }).constant({0}).no_gradcheck(),
        OpCase("no element", {rnd({0, 4}, 51), T({1, 4}, {1, 0, 0, 1})},
               [](Inputs x) { return masked_fill(x[0], x[1], 3.0f); }).constant({1}),
    };
}
