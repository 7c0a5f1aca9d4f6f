// The topk_mask slice: HREM's top-k connections (kernels/topk_mask.*, src/ops/topk_mask.cpp).
#include "op_test.h"

OP_TEST(topk_mask, "1 at each row's k largest entries (ties with the k-th kept); no gradient", {0}) {
    return {
        OpCase("5 x 7, k 3", {rnd({5, 7}, 1)}, [](Inputs x) { return topk_mask(x[0], 3); }).forward_only(),
        OpCase("k past the width", {rnd({3, 4}, 2)}, [](Inputs x) { return topk_mask(x[0], 9); }).forward_only(),
        OpCase("ties", {T({2, 4}, {1, 2, 2, 0, 5, 5, 5, 5})}, [](Inputs x) { return topk_mask(x[0], 2); }).forward_only(),
        OpCase("33 x 300, k 10", {rnd({33, 300}, 3)}, [](Inputs x) { return topk_mask(x[0], 10); }).forward_only(),
        OpCase("one row of one", {T({1, 1}, {0.5f})}, [](Inputs x) { return topk_mask(x[0], 1); }).forward_only(),
        OpCase("no row", {Tensor::zeros({0, 4})}, [](Inputs x) { return topk_mask(x[0], 2); }).forward_only(),
    };
}

TEST_CASE("op topk_mask: hand-computed") {
    // row 0: the 2 largest of 0.3 0.9 0.1 0.5 are 0.9 and 0.5; row 1: 2 and the two tied 1s (k = 2)
    CHECK(topk_mask(T({2, 4}, {0.3f, 0.9f, 0.1f, 0.5f, 1, 2, 1, 0}), 2).to_vector() ==
          std::vector<float>{0, 1, 0, 1, 1, 1, 1, 0});
    CHECK(topk_mask(T({1, 3}, {3, 1, 2}), 1).to_vector() == std::vector<float>{1, 0, 0});
}
