// The select slice: masked_fill and where (kernels/select.*, src/ops/select.cpp).
#include "../../kernels/select.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(select, "masked_fill and where with broadcast masks", {0}) {
    return {
        OpCase("masked_fill, a (3, 1) mask", {rnd({3, 4}, 43), T({3, 1}, {1, 0, 1})},
               [](Inputs x) { return masked_fill(x[0], x[1], -2.0f); }).constant({1}),
        OpCase("masked_fill, a (2, 1, 5) mask into (2, 3, 5)", {rnd({2, 3, 5}, 44), mask01({2, 1, 5}, 45)},
               [](Inputs x) { return masked_fill(x[0], x[1], 0.0f); }).constant({1}),
        OpCase("where, a (3, 1) condition", {T({3, 1}, {1, 0, 1}), rnd({3, 4}, 46), rnd({3, 4}, 47)},
               [](Inputs x) { return where(x[0], x[1], x[2]); }).constant({0}),
        OpCase("where, 300 elements", {mask01({300}, 48), rnd({300}, 49), rnd({300}, 50)},
               [](Inputs x) { return where(x[0], x[1], x[2]); }).constant({0}).no_gradcheck(),
        OpCase("no element", {rnd({0, 4}, 51), T({1, 4}, {1, 0, 0, 1})},
               [](Inputs x) { return masked_fill(x[0], x[1], 3.0f); }).constant({1}),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("masked_fill and where: values with broadcast masks; gradcheck") {
    Tensor x = T({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor rowmask = T({2, 1}, {0, 1});
    CHECK(masked_fill(x, rowmask, -1).to_vector() == std::vector<float>{1, 2, 3, -1, -1, -1});
    Tensor m = Tensor::from_i32({2, 3}, {1, 0, 0, 0, 0, 1});
    CHECK(masked_fill(x, m, 9).to_vector() == std::vector<float>{9, 2, 3, 4, 5, 9});
    Tensor y = T({2, 3}, {10, 20, 30, 40, 50, 60});
    CHECK(where(m, x, y).to_vector() == std::vector<float>{1, 20, 30, 40, 50, 6});
    CHECK(where(T({3}, {1, 0, 1}), x, y).to_vector() == std::vector<float>{1, 20, 3, 4, 50, 6});
    CHECK_THROWS_WITH(masked_fill(x, T({3, 1}, {1, 1, 1}), 0), doctest::Contains("do not broadcast"));
    CHECK_GRAD([rowmask](std::vector<Tensor>& in) { return masked_fill(in[0], rowmask, -3.0f); }, {rnd({2, 3}, 1)});
    CHECK_GRAD([m](std::vector<Tensor>& in) { return where(m, in[0], in[1]); }, {rnd({2, 3}, 2), rnd({2, 3}, 3)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_select() {
    // masked_fill and where with broadcast masks
    {
        Broadcast bc = frame({2, 3, 4}, {2, 3, 1});
        std::vector<float> xv = randv(24, 3), mask = {1, 0, 0, 1, 1, 0}, out(24);
        masked_fill_cpu(out.data(), xv.data(), mask.data(), -7.0f, bc);
        Buf<Bk> X(xv), M(mask), O(24);
        VSD_RUN(Bk{}, masked_fill)(O.d, X.d, M.d, -7.0f, bc);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        const std::vector<float> dout = randv(24, 6), dx0 = randv(24, 7);  // backward: dx += dout where unmasked
        std::vector<float> dx = dx0;
        masked_fill_backward_cpu(dx.data(), dout.data(), mask.data(), bc);
        Buf<Bk> DO(dout), DX(dx0);
        VSD_RUN(Bk{}, masked_fill_backward)(DX.d, DO.d, M.d, bc);
        CHECK_PARITY(DX.get(), dx, 0.0f, 0.0f);
        Broadcast wc = frame({2, 3, 4}, {3, 4});
        std::vector<float> cond = randv(12, 4, 0, 1), bv = randv(24, 5), w(24);
        for (float& c : cond) c = c > 0.5f ? 1.0f : 0.0f;
        where_cpu(w.data(), cond.data(), xv.data(), bv.data(), wc);
        Buf<Bk> C(cond), Bb(bv), W(24);
        VSD_RUN(Bk{}, where)(W.d, C.d, X.d, Bb.d, wc);
        CHECK_PARITY(W.get(), w, 0.0f, 0.0f);
    }
}
KERNEL_PARITY(parity_select, "masked_fill (forward and backward) and where with broadcast masks")
