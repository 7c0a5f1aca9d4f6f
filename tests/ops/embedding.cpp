// The embedding slice (kernels/embedding.*, src/ops/embedding.cpp).
#include "../../kernels/embedding.h"
#include "kernel_parity.h"
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

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("embedding: rows by id, repeated ids accumulate gradient") {
    Tensor table = T({3, 2}, {0, 1, 10, 11, 20, 21});
    Tensor ids = Tensor::from_i64({2, 2}, {2, 0, 2, 1});
    Tensor y = embedding(ids, table);
    CHECK(y.shape() == Shape{2, 2, 2});
    CHECK(y.to_vector() == std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11});
    table.requires_grad();
    backward(sum(embedding(ids, table)));
    CHECK(table.grad_tensor().to_vector() == std::vector<float>{1, 1, 1, 1, 2, 2});
    CHECK_THROWS_WITH(embedding(Tensor::from_i64({1}, {3}), table), doctest::Contains("index 3 at position 0 is outside [0, 3)"));
    Tensor ids32 = Tensor::from_i32({3}, {1, 1, 0});
    CHECK_GRAD([ids32](std::vector<Tensor>& in) { return embedding(ids32, in[0]); }, {rnd({4, 3}, 1)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_embedding() {
    // embedding: forward gather, backward scatter-add with a repeated id
    for (int64_t D : {1, 31, 128, 300}) {
        CAPTURE(D);
        const int64_t V = 9, rows = 6;
        std::vector<float> table = randv(V * D, D), dout = randv(rows * D, D + 1);
        std::vector<int64_t> ids = {3, 0, 8, 3, 5, 3};  // id 3 three times
        std::vector<float> out(rows * D), dt(V * D, 0.25f);
        embedding_forward_cpu(out.data(), table.data(), ids.data(), rows, D);
        embedding_backward_cpu(dt.data(), dout.data(), ids.data(), rows, D);
        Buf<Bk> T(table), O(rows * D), DO(dout), DT(std::vector<float>(V * D, 0.25f));
        Buf<Bk, int64_t> I(ids);
        VSD_RUN(Bk{}, embedding_forward)(O.d, T.d, I.d, rows, D);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);  // a copy: exact
        VSD_RUN(Bk{}, embedding_backward)(DT.d, DO.d, I.d, rows, D);
        CHECK_PARITY(DT.get(), dt, 1e-6f, 1e-5f);  // atomics: any order
    }
}
KERNEL_PARITY(parity_embedding, "embedding forward, and the scatter-add backward with a repeated id")
