// Shape and indexing ops: values by hand, gradients by central differences.
#include "helpers.h"

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

TEST_CASE("cdist: values; gradient finite at zero distance; gradcheck") {
    Tensor a = T({2, 2}, {0, 0, 1, 1}), b = T({3, 2}, {3, 4, 0, 0, 1, 0});
    std::vector<float> d = cdist(a, b).to_vector();
    CHECK(d[0] == 5.0f);
    CHECK(d[1] == 0.0f);
    CHECK(d[2] == 1.0f);
    CHECK(d[3] == doctest::Approx(std::sqrt(13.0)));
    CHECK(d[5] == 1.0f);
    CHECK_THROWS_WITH(cdist(a, T({1, 3}, {1, 2, 3})), doctest::Contains("expects a (N, D) and b (M, D)"));
    a.requires_grad();
    backward(sum(cdist(a, b)));
    for (float g : a.grad_tensor().to_vector()) CHECK(std::isfinite(g));
    CHECK_GRAD([](std::vector<Tensor>& in) { return cdist(in[0], in[1]); }, {rnd({3, 4}, 1), rnd({2, 4}, 2)});
}
