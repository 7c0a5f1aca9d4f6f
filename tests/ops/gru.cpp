// The gru slice: one GRU direction over ragged sequences (kernels/gru.*, src/ops/gru.cpp).
#include "op_test.h"

OP_TEST(gru, "a GRU direction, both ways, ragged lengths, garbage in the padding", {0}) {
    Tensor lengths = Tensor::from_i64({3}, {5, 2, 4});
    Tensor x = rnd({3, 5, 4}, 50);
    for (int64_t t = 2; t < 5; t++)
        for (int64_t i = 0; i < 4; i++) x.data()[(1 * 5 + t) * 4 + i] = 99.0f;  // must never be read
    std::vector<OpCase> cases;
    for (bool rev : {false, true}) {
        cases.push_back(OpCase(rev ? "reverse" : "forward", {x, rnd({18, 4}, 51), rnd({18, 6}, 52), rnd({18}, 53), rnd({18}, 54), lengths},
                               [rev](Inputs in) { return gru(in[0], in[5], in[1], in[2], in[3], in[4], rev); })
                            .tol(5e-5, 5e-4).gradcheck_tol(2e-3, 2e-2));
    }
    Tensor one = Tensor::from_i64({2}, {1, 1});
    cases.push_back(OpCase("one step each, hidden 33", {rnd({2, 1, 3}, 55), rnd({99, 3}, 56), rnd({99, 33}, 57), rnd({99}, 58), rnd({99}, 59), one},
                           [](Inputs in) { return gru(in[0], in[5], in[1], in[2], in[3], in[4], false); })
                        .tol(5e-5, 5e-4).no_gradcheck());
    return cases;
}
