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
