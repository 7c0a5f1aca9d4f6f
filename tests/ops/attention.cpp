// The attention slice: fused multi-head attention for inference (kernels/attention.*, src/ops/attention.cpp).
#include "op_test.h"

OP_TEST(attention, "fused attention, key masks, a query row with no visible key (forward only)", {0}) {
    std::vector<OpCase> cases;
    for (int64_t d : {1, 8, 33})
        for (int64_t L : {1, 5, 33}) {
            const int64_t B = 2, A = 3;
            Tensor keep = Tensor::ones({B, L});
            for (int64_t t = 0; t < L; t += 2) keep.data()[L + t] = 0.0f;  // sample 1 sees odd keys only
            if (L == 1) keep.data()[1] = 0.0f;                              // ... and none when L = 1
            cases.push_back(OpCase("L " + std::to_string(L) + ", head dim " + std::to_string(d),
                                   {rnd({B, L, A * d}, L + d), rnd({B, L, A * d}, L + d + 1), rnd({B, L, A * d}, L + d + 2), keep},
                                   [](Inputs x) { return attention(x[0], x[1], x[2], x[3], 3); })
                                .forward_only());
        }
    cases.push_back(OpCase("no mask", {rnd({1, 4, 8}, 1), rnd({1, 4, 8}, 2), rnd({1, 4, 8}, 3)},
                           [](Inputs x) { return attention(x[0], x[1], x[2], Tensor(), 2); }).forward_only());
    return cases;
}
