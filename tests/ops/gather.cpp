// The gather slice: gather and index_select (kernels/gather.*, src/ops/gather.cpp).
#include "../../kernels/gather.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(gather, "gather along a dim and index_select; repeated indices scatter-add", {0}) {
    return {
        OpCase("gather dim 1, repeats", {rnd({2, 3}, 45), Tensor::from_i64({2, 2}, {2, 0, 1, 1})},
               [](Inputs x) { return gather(x[0], 1, x[1]); }),
        OpCase("gather dim 0 of (4, 3, 2)", {rnd({4, 3, 2}, 46), Tensor::from_i64({2, 3, 2}, {0, 1, 2, 3, 3, 3, 1, 1, 0, 0, 2, 2})},
               [](Inputs x) { return gather(x[0], 0, x[1]); }),
        OpCase("index_select dim 1", {rnd({2, 3}, 47), Tensor::from_i64({2}, {0, 2})},
               [](Inputs x) { return index_select(x[0], 1, x[1]); }),
        OpCase("index_select dim 0, repeats, 33 wide", {rnd({5, 33}, 48), Tensor::from_i32({4}, {4, 0, 4, 1})},
               [](Inputs x) { return index_select(x[0], 0, x[1]); }),
        OpCase("300 lookups of 2 rows: many adds to one address", {rnd({2, 1}, 49), Tensor::from_i64({300, 1}, std::vector<int64_t>(300, 1))},
               [](Inputs x) { return gather(x[0], 0, x[1]); }).no_gradcheck(),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("gather and index_select: values; repeated indices accumulate; gradcheck") {
    Tensor x = T({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor gi = Tensor::from_i64({2, 2}, {2, 0, 1, 1});
    CHECK(gather(x, 1, gi).to_vector() == std::vector<float>{3, 1, 5, 5});
    Tensor gi0 = Tensor::from_i64({1, 3}, {1, 0, 1});
    CHECK(gather(x, 0, gi0).to_vector() == std::vector<float>{4, 2, 6});
    Tensor si = Tensor::from_i64({3}, {1, 1, 0});
    CHECK(index_select(x, 0, si).to_vector() == std::vector<float>{4, 5, 6, 4, 5, 6, 1, 2, 3});
    CHECK(index_select(x, 1, Tensor::from_i32({1}, {2})).to_vector() == std::vector<float>{3, 6});
    CHECK_THROWS_WITH(index_select(x, 0, Tensor::from_i64({1}, {2})), doctest::Contains("index 2 at position 0 is outside [0, 2)"));
    x.requires_grad();
    backward(sum(gather(x, 1, gi)));
    CHECK(x.grad_tensor().to_vector() == std::vector<float>{1, 0, 1, 0, 2, 0});
    CHECK_GRAD([gi](std::vector<Tensor>& in) { return gather(in[0], 1, gi); }, {rnd({2, 3}, 1)});
    CHECK_GRAD([si](std::vector<Tensor>& in) { return index_select(in[0], 0, si); }, {rnd({2, 4}, 2)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_gather() {
    // gather along the middle dim, and its scatter-add backward (repeated indices)
    {
        const int64_t outer = 2, n = 5, m = 4, inner = 3;
        std::vector<float> xv = randv(outer * n * inner, 6), g = randv(outer * m * inner, 7), out(outer * m * inner);
        std::vector<int64_t> index(outer * m * inner);
        Rng r(8);
        for (int64_t& v : index) v = (int64_t)r.randint(n);
        std::vector<float> dx(outer * n * inner, 0.0f);
        gather_cpu(out.data(), xv.data(), index.data(), outer, n, m, inner);
        gather_backward_cpu(dx.data(), g.data(), index.data(), outer, n, m, inner);
        Buf<Bk> X(xv), O(outer * m * inner), G(g), DX(std::vector<float>(outer * n * inner, 0.0f));
        Buf<Bk, int64_t> I(index);
        VSD_RUN(Bk{}, gather)(O.d, X.d, I.d, outer, n, m, inner);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        VSD_RUN(Bk{}, gather_backward)(DX.d, G.d, I.d, outer, n, m, inner);
        CHECK_PARITY(DX.get(), dx, 1e-6f, 1e-5f);
    }
}
KERNEL_PARITY(parity_gather, "gather and its scatter-add backward, repeated indices")

TEST_CASE("scatter_plan: each destination row's sources, in ascending order (by hand)") {
    const std::vector<int64_t> idx = {3, 1, 3, 0, 3};
    // destinations 0, 1, 3; row 3 collects sources 0, 2, 4
    CHECK(scatter_plan(idx.data(), 5, 5) == std::vector<int64_t>{3, /*dest*/ 0, 1, 3, /*offsets*/ 0, 1, 2, 5, /*sources*/ 3, 1, 0, 2, 4});
    CHECK(scatter_plan(idx.data(), 0, 5) == std::vector<int64_t>{0, 0});  // nothing to scatter
}

template <class Bk>
void parity_scatter_add_rows() {
    // index_select's backward without atomics: against the CPU's plain scatter loop, repeated
    // indices, two outer slices, rows of 33 floats (one past a warp); accumulates into dx
    const int64_t outer = 2, n = 6, m = 7, inner = 33;
    const std::vector<int64_t> idx = {5, 0, 5, 2, 5, 0, 3};
    const std::vector<float> dout = randv(outer * m * inner, 120), dx0 = randv(outer * n * inner, 121);
    std::vector<float> want = dx0;
    index_select_backward_cpu(want.data(), dout.data(), idx.data(), outer, n, m, inner);
    const std::vector<int64_t> plan = scatter_plan(idx.data(), m, n);
    std::vector<float> cpu = dx0;
    scatter_add_rows_cpu(cpu.data(), dout.data(), plan.data(), outer, n, m, inner);
    CHECK_PARITY(cpu, want, 1e-6f, 1e-5f);
    Buf<Bk> DX(dx0), DO(dout);
    Buf<Bk, int64_t> P(plan);
    VSD_RUN(Bk{}, scatter_add_rows)(DX.d, DO.d, P.d, plan[0], outer, n, m, inner);
    CHECK_PARITY(DX.get(), want, 1e-6f, 1e-5f);
}
KERNEL_PARITY(parity_scatter_add_rows, "scatter_add_rows (index_select's and embedding's backward) against the CPU's scatter")
