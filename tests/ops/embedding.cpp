// The embedding slice (kernels/embedding.*, src/ops/embedding.cpp).
#include "op_test.h"

OP_TEST(embedding, "rows of a table by id; a repeated id collects both gradients", {0}) {
    return {
        OpCase("2 x 3 ids, repeats, D 7", {rnd({5, 7}, 40), Tensor::from_i64({2, 3}, {1, 0, 4, 4, 2, 1})},
               [](Inputs x) { return embedding(x[1], x[0]); }),
        OpCase("int32 ids, D 33", {rnd({4, 33}, 41), Tensor::from_i32({3}, {3, 3, 0})}, [](Inputs x) { return embedding(x[1], x[0]); }),
        OpCase("D 1", {rnd({3, 1}, 42), Tensor::from_i64({4}, {0, 2, 2, 1})}, [](Inputs x) { return embedding(x[1], x[0]); }),
        OpCase("one id, D 300", {rnd({2, 300}, 43), Tensor::from_i64({1}, {1})}, [](Inputs x) { return embedding(x[1], x[0]); })
            .no_gradcheck(),
    };
}
