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

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("reshape: values, -1, gradient") {
    Tensor x = T({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(reshape(x, {3, -1}).shape() == Shape{3, 2});
    CHECK_THROWS_WITH(reshape(x, {-1, -1}), doctest::Contains("only one -1"));
    CHECK_GRAD([](std::vector<Tensor>& in) { return reshape(in[0], {4, 3}) * 2.0f; }, {rnd({2, 6}, 1)});
}

TEST_CASE("narrow: every dim, views and copies; gradcheck") {
    Tensor x = T({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(narrow(x, 1, 1, 2).to_vector() == std::vector<float>{2, 3, 5, 6});
    CHECK(narrow(x, 0, 1, 1).to_vector() == std::vector<float>{4, 5, 6});
    CHECK(narrow(x, -1, 0, 0).numel() == 0);
    CHECK_THROWS_WITH(narrow(x, 1, 2, 2), doctest::Contains("[2, 4) is outside dim 1 of (2, 3)"));
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        CHECK_GRAD([d](std::vector<Tensor>& in) { return narrow(in[0], d, 1, 2); }, {rnd({3, 4, 5}, d)});
    }
}

TEST_CASE("concat: values along each dim; gradcheck") {
    Tensor a = T({2, 1}, {1, 2}), b = T({2, 2}, {3, 4, 5, 6});
    CHECK(concat({a, b}, 1).to_vector() == std::vector<float>{1, 3, 4, 2, 5, 6});
    CHECK(concat({b, b}, 0).shape() == Shape{4, 2});
    CHECK(concat({T({0, 2}, {}), b}, 0).to_vector() == b.to_vector());
    CHECK_THROWS_WITH(concat({a, b}, 0), doctest::Contains("does not match"));
    CHECK_GRAD([](std::vector<Tensor>& in) { return concat({in[0], in[1], in[0]}, 1); },
               {rnd({2, 3, 2}, 1), rnd({2, 1, 2}, 2)});
}

TEST_CASE("permute / transpose: values; gradcheck") {
    Tensor x = T({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(transpose(x, 0, 1).to_vector() == std::vector<float>{1, 4, 2, 5, 3, 6});
    Tensor y = T({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});  // y[i][j][k] = 4i + 2j + k
    Tensor p = permute(y, {2, 0, 1});                    // p[k][i][j] = y[i][j][k]
    CHECK(p.to_vector() == std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7});
    CHECK_THROWS_WITH(permute(y, {0, 0, 1}), doctest::Contains("repeated"));
    CHECK_GRAD([](std::vector<Tensor>& in) { return permute(in[0], {3, 1, 0, 2}); }, {rnd({2, 3, 1, 4}, 1)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return transpose(in[0], -1, -2); }, {rnd({2, 3, 4}, 2)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_shape() {
    // permute, and the slab copy behind narrow / concat (with accumulate)
    {
        const int64_t shape[4] = {2, 3, 4, 5};
        const int perm[4] = {3, 1, 0, 2};
        const std::vector<float> xv = randv(120, 10), start = randv(120, 13);
        for (bool acc : {false, true}) {  // write, and add (the backward: x.grad += the inverse permute)
            std::vector<float> out = start;
            permute_cpu(out.data(), xv.data(), shape, perm, acc);
            Buf<Bk> X(xv), O(start);
            VSD_RUN(Bk{}, permute)(O.d, X.d, shape, perm, acc);
            CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        }
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
KERNEL_PARITY(parity_shape, "permute and the slab copy (narrow, concat), writing and accumulating")
