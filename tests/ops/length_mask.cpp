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
