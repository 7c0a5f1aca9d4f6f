// The dropout slice (kernels/dropout.*, src/ops/dropout.cpp).
#include "op_test.h"

OP_TEST(dropout, "inverted dropout: the same seed drops the same elements on every device", {0}) {
    auto drop = [](float p) {
        return [p](Inputs x) {
            Rng r(5);  // a fresh generator per call: every run draws the same seed
            return dropout(x[0], p, true, r);
        };
    };
    return {
        OpCase("p 0.3, 6 x 11", {rnd({6, 11}, 39)}, drop(0.3f)),
        OpCase("p 0.5, 1000 elements", {rnd({1000}, 40)}, drop(0.5f)).no_gradcheck(),
        OpCase("p 0 keeps everything", {rnd({3, 3}, 41)}, drop(0.0f)),
        OpCase("no element", {rnd({0}, 42)}, drop(0.2f)),
    };
}
