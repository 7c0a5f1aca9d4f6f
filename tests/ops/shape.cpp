// The shape slice: reshape, narrow, concat, permute, transpose (kernels/shape.*, src/ops/shape.cpp).
#include "../../kernels/shape.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(shape, "views and copies: narrow, concat, permute, transpose", {0}) {
    return {
        OpCase("reshape + narrow (a view and a copy) + concat", {rnd({2, 2, 6}, 41)},
               [](Inputs x) {
                   Tensor r = reshape(x[0], {4, 6});
                   return concat({narrow(r, 0, 1, 2), reshape(narrow(x[0], 2, 1, 3), {2, 6})}, 0);
               }),
        OpCase("concat along the last dim, three parts", {rnd({3, 2}, 1), rnd({3, 5}, 2), rnd({3, 1}, 3)},
               [](Inputs x) { return concat({x[0], x[1], x[2]}, 1); }),
        OpCase("narrow to one column", {rnd({4, 33}, 4)}, [](Inputs x) { return narrow(x[0], 1, 32, 1); }),
        OpCase("permute 4-d", {rnd({2, 3, 4, 5}, 42)}, [](Inputs x) { return permute(x[0], {2, 0, 3, 1}); }),
        OpCase("transpose the last two", {rnd({3, 7, 33}, 5)}, [](Inputs x) { return transpose(x[0], 1, 2); }),
        OpCase("permute an empty tensor", {rnd({2, 0, 3}, 6)}, [](Inputs x) { return permute(x[0], {2, 1, 0}); }),
    };
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_shape() {
    // permute, and the slab copy behind narrow / concat (with accumulate)
    {
        const int64_t shape[4] = {2, 3, 4, 5};
        const int perm[4] = {3, 1, 0, 2};
        std::vector<float> xv = randv(120, 10), out(120);
        permute_cpu(out.data(), xv.data(), shape, perm, false);
        Buf<Bk> X(xv), O(120);
        VSD_RUN(Bk{}, permute)(O.d, X.d, shape, perm);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        std::vector<float> dst = randv(2 * 6 * 3, 11), src = randv(2 * 4 * 3, 12);
        for (bool acc : {false, true}) {
            std::vector<float> want = dst;
            slab_copy_cpu(want.data(), 6, 2, src.data(), 4, 1, 3, 2, 3, acc);
            Buf<Bk> D(dst), S(src);
            VSD_RUN(Bk{}, slab_copy)(D.d, 6, 2, S.d, 4, 1, 3, 2, 3, acc);
            CHECK_PARITY(D.get(), want, 1e-6f, 1e-6f);
        }
    }
}
KERNEL_PARITY(parity_shape, "permute and the slab copy (narrow, concat, accumulate)")
