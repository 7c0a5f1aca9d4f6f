// The relation slice: HREM's region-word statistics (kernels/relation.*, src/ops/relation.cpp).
#include "op_test.h"

// unit rows, as HREM feeds it (its fragments are l2-normalised first)
static Tensor unit(const Shape& s, uint64_t seed) { return l2norm(rnd(s, seed)); }

OP_TEST(relation, "HREM's region-word statistics: means and top-k both ways (forward only)", {0}) {
    std::vector<OpCase> cases;
    auto run = [](int K) {
        return [K](Inputs x) {
            RegionWordStats s = region_word_stats(x[0], x[1], x[2], K, 0.1f);
            return std::vector<Tensor>{s.mean_t2i, s.topk_t2i, s.mean_i2t, s.topk_i2t};
        };
    };
    cases.push_back(OpCase("3 captions x 4 images, L 7, R 5, E 33, K 3", {unit({3, 7, 33}, 1), unit({4, 5, 33}, 2),
                                                                          Tensor::from_i64({3}, {7, 2, 5})}, run(3))
                        .forward_only());
    cases.push_back(OpCase("K 10 above the widths (zero-completed lists)", {unit({2, 4, 8}, 3), unit({2, 6, 8}, 4),
                                                                            Tensor::from_i64({2}, {4, 1})}, run(10))
                        .forward_only());
    cases.push_back(OpCase("36 regions, 130-wide features", {unit({2, 12, 130}, 5), unit({3, 36, 130}, 6),
                                                             Tensor::from_i32({2}, {12, 9})}, run(10))
                        .forward_only()
                        .tol(1e-5, 1e-4));
    return cases;
}
