// The reduce slice: sums, means and maxima along a dim (kernels/reduce.*, src/ops/reduce.cpp).
#include "../../kernels/reduce.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(reduce, "sum, mean and max along a dim, and whole-tensor sums", {0}) {
    return {
        OpCase("sum along the middle dim", {rnd({3, 4, 5}, 10)}, [](Inputs x) { return sum(x[0], 1); }),
        OpCase("mean along the last dim, keepdim", {rnd({3, 4, 5}, 11)}, [](Inputs x) { return mean(x[0], -1, true); }),
        OpCase("sum of everything", {rnd({6, 7}, 12)}, [](Inputs x) { return sum(x[0] * x[0]); }),
        OpCase("mean of everything, 1 element", {rnd({1}, 13)}, [](Inputs x) { return mean(x[0]); }),
        OpCase("sum over a dim of 0", {rnd({3, 0, 2}, 14)}, [](Inputs x) { return sum(x[0], 1); }),
        OpCase("sum over rows of 129", {rnd({3, 129}, 15)}, [](Inputs x) { return sum(x[0], 1); }).no_gradcheck(),
        OpCase("max: values and indices", {distinct({3, 6, 2}, 16)}, [](Inputs x) { return max(x[0], 1); }),
        OpCase("max with ties: the first index wins", {T({2, 3}, {1, 3, 3, 2, 2, 0})},
               [](Inputs x) { return max(x[0], 1); }).no_gradcheck(),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("sum / mean / max along a dim: values, keepdim, edge shapes") {
    Tensor a = T({2, 3}, {1, 5, 3, 4, 2, 6});
    CHECK(sum(a, 0).to_vector() == std::vector<float>{5, 7, 9});
    CHECK(sum(a, 1).to_vector() == std::vector<float>{9, 12});
    CHECK(sum(a, -1, true).shape() == Shape{2, 1});
    CHECK(mean(a, 1).to_vector() == std::vector<float>{3, 4});
    CHECK(sum(a).item() == 21.0f);
    CHECK(sum(a).shape() == Shape{});
    CHECK(mean(a).item() == 3.5f);
    auto [mv, mi] = max(a, 1);
    CHECK(mv.to_vector() == std::vector<float>{5, 6});
    CHECK(mi.to_vector() == std::vector<float>{1, 2});
    auto [cv, ci] = max(a, 0, true);
    CHECK(cv.shape() == Shape{1, 3});
    CHECK(cv.to_vector() == std::vector<float>{4, 5, 6});
    CHECK(ci.to_vector() == std::vector<float>{1, 0, 1});
    CHECK(max(T({1, 3}, {2, 2, 1}), 1).second.to_vector()[0] == 0);  // ties: the first index
    CHECK(sum(T({0, 4}, {}), 0).to_vector() == std::vector<float>{0, 0, 0, 0});  // empty batch sums to 0
    CHECK(sum(T({3, 1, 2}, {1, 2, 3, 4, 5, 6}), 1).shape() == Shape{3, 2});   // size-1 dim
    CHECK_THROWS_WITH(max(T({2, 0}, {}), 1), doctest::Contains("empty dim"));
}

TEST_CASE("sum / mean / max: gradcheck") {
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        CHECK_GRAD([d](std::vector<Tensor>& in) { return sum(in[0], d); }, {rnd({2, 3, 4}, 1)});
        CHECK_GRAD([d](std::vector<Tensor>& in) { return mean(in[0], d, true); }, {rnd({2, 3, 4}, 2)});
        CHECK_GRAD([d](std::vector<Tensor>& in) { return max(in[0], d).first; }, {distinct({2, 3, 4}, 3)});
    }
    CHECK_GRAD([](std::vector<Tensor>& in) { return mean(in[0]); }, {rnd({3, 5}, 4)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_rowsum() {
    for (int v : {1, 2, 3})
        for (int64_t rows : {1, 3, 40})
            for (int64_t n : {0, 1, 31, 32, 33, 127, 128, 129, 1000}) {
                CAPTURE(v); CAPTURE(rows); CAPTURE(n);
                // small integers: every summation order gives the same exact result
                std::vector<float> x(rows * n);
                Rng r(n + rows);
                for (float& e : x) e = (float)((int)r.randint(9) - 4);
                std::vector<float> y(rows);
                sum_dim_forward_cpu(y.data(), x.data(), rows, n, 1, 1.0f);
                Buf<Bk> X(x), Y(rows);
                VSD_RUN(Bk{}, rowsum_forward)(Y.d, X.d, rows, n, 1.0f, v);
                CHECK_PARITY(Y.get(), y, 0.0f, 0.0f);  // exact
            }
}
KERNEL_PARITY(parity_rowsum, "row sums (v1 serial, v2 shared-memory tree, v3 warp shuffles)")

template <class Bk>
void parity_reduce_dim() {
    // sums and maxima along each dim of (3, 5, 7)
    const int64_t dims[3] = {3, 5, 7};
    std::vector<float> x = randv(105, 9);
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        int64_t outer = 1, inner = 1;
        for (int k = 0; k < d; k++) outer *= dims[k];
        for (int k = d + 1; k < 3; k++) inner *= dims[k];
        const int64_t n = dims[d];
        std::vector<float> y(outer * inner), m(outer * inner);
        std::vector<int64_t> idx(outer * inner);
        sum_dim_forward_cpu(y.data(), x.data(), outer, n, inner, 0.5f);
        max_dim_forward_cpu(m.data(), idx.data(), x.data(), outer, n, inner);
        Buf<Bk> X(x), Y(outer * inner), M(outer * inner);
        Buf<Bk, int64_t> I(outer * inner);
        VSD_RUN(Bk{}, sum_dim)(Y.d, X.d, outer, n, inner, 0.5f);
        VSD_RUN(Bk{}, max_dim)(M.d, I.d, X.d, outer, n, inner);
        CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
        CHECK_PARITY(M.get(), m, 0.0f, 0.0f);
        CHECK(I.get() == idx);
    }
}
KERNEL_PARITY(parity_reduce_dim, "sums and maxima along each dim")
