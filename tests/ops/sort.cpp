// The sort slice: sort and top-k (kernels/sort.*, src/ops/sort.cpp).
#include "../../kernels/sort.h"
#include "../../kernels/gather.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(sort, "stable sort and top-k along a dim, both orders", {0}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 2, 33}) {
        const std::string l = std::to_string(n) + " per line";
        cases.push_back(OpCase("sort descending, dim 1, " + l, {distinct({4, n, 2}, n)}, [](Inputs x) { return sort(x[0], 1, true); }));
        cases.push_back(OpCase("sort ascending, last dim, " + l, {distinct({3, n}, n + 1)}, [](Inputs x) { return sort(x[0]); }));
    }
    cases.push_back(OpCase("topk 3 largest", {distinct({4, 7}, 9)}, [](Inputs x) { return topk(x[0], 3, 1); }));
    cases.push_back(OpCase("topk 2 smallest, dim 0", {distinct({5, 3}, 10)}, [](Inputs x) { return topk(x[0], 2, 0, false); }));
    cases.push_back(OpCase("ties keep their order", {T({2, 4}, {1, 2, 1, 2, 3, 3, 3, 0})}, [](Inputs x) { return sort(x[0], 1, true); })
                        .no_gradcheck());
    cases.push_back(OpCase("NaN sorts above every number", {T({1, 4}, {0.5f, NAN, -1.0f, 2.0f})},
                           [](Inputs x) { return sort(x[0], 1, true); }).forward_only());
    return cases;
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("sort: values and indices along each dim, stable ties, descending; gradient scatters back") {
    Tensor x = T({2, 3}, {3, 1, 2, 0, 5, 4});
    auto [v, i] = sort(x, 1);
    CHECK(v.to_vector() == std::vector<float>{1, 2, 3, 0, 4, 5});
    CHECK(i.to_vector() == std::vector<float>{1, 2, 0, 0, 2, 1});
    auto [vd, id] = sort(x, 0, true);
    CHECK(vd.to_vector() == std::vector<float>{3, 5, 4, 0, 1, 2});
    CHECK(id.to_vector() == std::vector<float>{0, 1, 1, 1, 0, 0});
    auto [vt, it] = sort(T({4}, {2, 1, 2, 1}), 0, true);  // ties keep original order
    CHECK(it.to_vector() == std::vector<float>{0, 2, 1, 3});
    // backward: d(sorted[k]) goes to x[index[k]]
    Tensor xs = T({3}, {3, 1, 2}).requires_grad();
    tape().backward(sort(xs).first, T({3}, {10, 20, 30}));  // sorted = [1, 2, 3] from x[1], x[2], x[0]
    CHECK(xs.grad_tensor().to_vector() == std::vector<float>{30, 10, 20});
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        CHECK_GRAD([d](std::vector<Tensor>& in) { return sort(in[0], d, true).first; }, {distinct({2, 3, 4}, d)});
    }
}

TEST_CASE("topk: largest and smallest, k edges; gradcheck") {
    Tensor x = T({2, 4}, {5, 1, 7, 3, 2, 8, 6, 4});
    auto [v, i] = topk(x, 2);
    CHECK(v.to_vector() == std::vector<float>{7, 5, 8, 6});
    CHECK(i.to_vector() == std::vector<float>{2, 0, 1, 2});
    auto [vs, is] = topk(x, 1, 1, false);
    CHECK(vs.to_vector() == std::vector<float>{1, 2});
    CHECK(topk(x, 0).first.numel() == 0);
    CHECK(topk(x, 4).first.to_vector() == std::vector<float>{7, 5, 3, 1, 8, 6, 4, 2});
    CHECK_THROWS_WITH(topk(x, 5), doctest::Contains("k = 5 but dim -1 of (2, 4) has 4 elements"));
    CHECK_GRAD([](std::vector<Tensor>& in) { return topk(in[0], 2, 1).first; }, {distinct({3, 5}, 1)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return topk(in[0], 2, 0, false).first; }, {distinct({4, 3}, 2)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_sort() {
    // sort and top-k along each dim, with ties (values on a coarse grid)
    const int64_t dims[3] = {3, 9, 4};
    std::vector<float> x(108);
    Rng r(30);
    for (float& v : x) v = (float)((int)r.randint(5));
    for (int d = 0; d < 3; d++)
        for (bool desc : {false, true}) {
            CAPTURE(d); CAPTURE(desc);
            int64_t outer = 1, inner = 1;
            for (int k = 0; k < d; k++) outer *= dims[k];
            for (int k = d + 1; k < 3; k++) inner *= dims[k];
            const int64_t n = dims[d], k = std::max<int64_t>(1, n - 2);
            std::vector<float> vals(outer * k * inner);
            std::vector<int64_t> idx(outer * k * inner);
            sort_cpu(vals.data(), idx.data(), x.data(), outer, n, inner, k, desc);
            Buf<Bk> X(x), V(outer * k * inner);
            Buf<Bk, int64_t> I(outer * k * inner);
            VSD_RUN(Bk{}, sort_lines)(V.d, I.d, X.d, outer, n, inner, k, desc);
            CHECK_PARITY(V.get(), vals, 0.0f, 0.0f);
            CHECK(I.get() == idx);  // stable: the same order among ties
        }
}
KERNEL_PARITY(parity_sort, "sort and top-k along each dim, with ties")
