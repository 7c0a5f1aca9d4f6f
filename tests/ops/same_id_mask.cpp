// The same_id_mask slice: the positive pairs of a batch (kernels/same_id_mask.*, src/ops/same_id_mask.cpp).
#include "op_test.h"

OP_TEST(same_id_mask, "1 where i == j or ids[i] == ids[j] (with repeats); no gradient", {0}) {
    return {
        OpCase("5 ids with repeats", {Tensor::from_i64({5}, {3, 1, 3, 0, 1})}, [](Inputs x) { return same_id_mask(x[0], true); }),
        OpCase("the identity", {Tensor::from_i64({4}, {3, 3, 3, 3})}, [](Inputs x) { return same_id_mask(x[0], false); }),
        OpCase("33 ids, many repeats", {rnd_lengths(33, 5, 7)}, [](Inputs x) { return same_id_mask(x[0], true); }),
        OpCase("one", {Tensor::from_i32({1}, {9})}, [](Inputs x) { return same_id_mask(x[0], true); }),
        OpCase("none", {Tensor::from_i64({0}, {})}, [](Inputs x) { return same_id_mask(x[0], true); }),
    };
}

TEST_CASE("op same_id_mask: hand-computed") {
    const Tensor ids = Tensor::from_i64({3}, {7, 2, 7});
    CHECK(same_id_mask(ids, true).to_vector() == std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 1});
    CHECK(same_id_mask(ids, false).to_vector() == std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1});
}
