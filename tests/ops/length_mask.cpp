// The length_mask slice: the padding mask of a batch (kernels/length_mask.*, src/ops/length_mask.cpp).
#include "op_test.h"

OP_TEST(length_mask, "1 where k < lengths[b], made on the lengths' device (no gradient)", {0}) {
    return {
        OpCase("3 x 5, lengths 5 2 0", {Tensor::from_i64({3}, {5, 2, 0})}, [](Inputs x) { return length_mask(x[0], 5); }),
        OpCase("int32 lengths longer than the width", {Tensor::from_i32({2}, {7, 1})}, [](Inputs x) { return length_mask(x[0], 4); }),
        OpCase("300 wide", {Tensor::from_i64({2}, {299, 31})}, [](Inputs x) { return length_mask(x[0], 300); }),
        OpCase("no sample", {Tensor::from_i64({0}, {})}, [](Inputs x) { return length_mask(x[0], 3); }),
    };
}

TEST_CASE("op length_mask: hand-computed") {
    CHECK(length_mask(Tensor::from_i64({2}, {1, 3}), 3).to_vector() == std::vector<float>{1, 0, 0, 1, 1, 1});
}

OP_TEST(causal_mask, "1 where key j <= query i, made on the device of its argument (no gradient)", {0}) {
    return {
        OpCase("4 x 4", {Tensor::from_i64({1}, {0})}, [](Inputs x) { return causal_mask(4, x[0]); }),
        OpCase("77 x 77 (CLIP's context): more than a block", {Tensor::from_i64({1}, {0})},
               [](Inputs x) { return causal_mask(77, x[0]); }),
        OpCase("one", {Tensor::from_i64({1}, {0})}, [](Inputs x) { return causal_mask(1, x[0]); }),
        OpCase("none", {Tensor::from_i64({1}, {0})}, [](Inputs x) { return causal_mask(0, x[0]); }),
    };
}

TEST_CASE("op causal_mask: hand-computed") {
    CHECK(causal_mask(3, Tensor::from_i64({1}, {0})).to_vector() == std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1});
}

OP_TEST(length_weights, "1/k over the first k = min(cap, max(len, 1)) positions; the running-minimum quirk", {0}) {
    return {
        OpCase("4 x 6, cap 6", {Tensor::from_i64({4}, {3, 0, 6, 9})}, [](Inputs x) { return length_weights(x[0], 6, 6); }),
        OpCase("4 x 5, cap 2", {Tensor::from_i64({4}, {3, 1, 5, 0})}, [](Inputs x) { return length_weights(x[0], 5, 2); }),
        OpCase("running minimum", {Tensor::from_i32({5}, {4, 6, 2, 5, 1})},
               [](Inputs x) { return length_weights(x[0], 6, 5, true); }),
        OpCase("300 samples x 33", {rnd_lengths(300, 40, 3)}, [](Inputs x) { return length_weights(x[0], 33, 20, true); }),
        OpCase("no sample", {Tensor::from_i64({0}, {})}, [](Inputs x) { return length_weights(x[0], 3, 3); }),
    };
}

TEST_CASE("op length_weights: hand-computed") {
    // lengths 2, 0 (-> 1), 5 (capped at 3); width 4
    CHECK(length_weights(Tensor::from_i64({3}, {2, 0, 5}), 4, 3).to_vector() ==
          std::vector<float>{0.5f, 0.5f, 0, 0, 1, 0, 0, 0, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0});
    // the running minimum: 3, then min(3, 4) = 3, then 1, then min(1, 4) = 1
    CHECK(length_weights(Tensor::from_i64({4}, {3, 4, 1, 4}), 3, 3, true).to_vector() ==
          std::vector<float>{1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 1, 0, 0, 1, 0, 0});
}
