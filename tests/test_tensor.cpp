// Tensor: construction, shapes, views, dtypes, gradient buffers, errors.
#include "helpers.h"
#include "../kernels/backend.h"  // cuda_available

TEST_CASE("tensor: construction, shape and values") {
    Tensor t = T({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(t.ndim() == 2);
    CHECK(t.size(0) == 2);
    CHECK(t.size(-1) == 3);
    CHECK(t.numel() == 6);
    CHECK(t.shape_str() == "(2, 3)");
    CHECK(T({3}, {1, 2, 3}).shape_str() == "(3,)");
    CHECK(Tensor::scalar(2.5f).shape_str() == "()");
    CHECK(Tensor::scalar(2.5f).item() == 2.5f);
    CHECK(t.data()[4] == 5.0f);
    Tensor z = Tensor::zeros({2, 2});
    for (float v : z.to_vector()) CHECK(v == 0.0f);
    Tensor e = Tensor::empty({0, 5});  // empty tensors are allowed
    CHECK(e.numel() == 0);
    Tensor i = Tensor::from_i64({3}, {7, -1, 4});
    CHECK(i.dtype() == DType::I64);
    CHECK(i.index_at(1) == -1);
    CHECK(Tensor::from_i32({2}, {3, 9}).index_at(1) == 9);
}

TEST_CASE("tensor: randn and rand are seeded") {
    Rng a(5), b(5), c(6);
    Tensor x = Tensor::randn({100}, a), y = Tensor::randn({100}, b), z = Tensor::randn({100}, c);
    CHECK(x.to_vector() == y.to_vector());
    CHECK(x.to_vector() != z.to_vector());
    // mean ~ 0 and variance ~ 1 for 100k draws (4-sigma bounds: 0.013 and 0.018)
    Rng r(1);
    Tensor big = Tensor::randn({100000}, r);
    double s = 0, ss = 0;
    for (float v : big.to_vector()) { s += v; ss += (double)v * v; }
    CHECK(std::fabs(s / 1e5) < 0.013);
    CHECK(std::fabs(ss / 1e5 - 1.0) < 0.018);
    Tensor u = Tensor::rand({1000}, r, 2.0f, 3.0f);
    for (float v : u.to_vector()) CHECK((v >= 2.0f && v < 3.0f));
}

TEST_CASE("tensor: reshape and narrow along dim 0 are views sharing bytes") {
    Tensor t = T({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor r = reshape(t, {3, 2});
    CHECK(r.data() == t.data());
    r.data()[0] = 42.0f;  // writes through
    CHECK(t.data()[0] == 42.0f);
    CHECK(reshape(t, {-1}).shape() == Shape{6});
    Tensor n = narrow(t, 0, 1, 1);
    CHECK(n.data() == t.data() + 3);
    CHECK(n.to_vector() == std::vector<float>{4, 5, 6});
    Tensor c = t.clone();
    CHECK(c.data() != t.data());
    c.data()[1] = -1.0f;
    CHECK(t.data()[1] == 2.0f);
}

TEST_CASE("tensor: gradient buffer is lazy, zero-filled, and zero_grad is explicit") {
    Tensor t = T({2}, {1, 2});
    CHECK_FALSE(t.has_grad());
    t.requires_grad();
    float* g = t.grad();
    CHECK(t.has_grad());
    CHECK(g[0] == 0.0f);
    g[0] = 3.0f;
    CHECK(t.grad_tensor().to_vector() == std::vector<float>{3, 0});
    t.zero_grad();
    CHECK(t.grad_tensor().to_vector() == std::vector<float>{0, 0});
    CHECK_THROWS_WITH(Tensor::from_i64({1}, {1}).requires_grad(), doctest::Contains("only float32 tensors can require grad"));
}

TEST_CASE("tensor: errors name what was expected and what was found") {
    CHECK_THROWS_WITH(T({2, 2}, {1, 2, 3}), doctest::Contains("shape (2, 2) needs 4 values, got 3"));
    CHECK_THROWS_WITH(Tensor::empty({1, 1, 1, 1, 1}), doctest::Contains("at most 4 dims"));
    CHECK_THROWS_WITH(T({2}, {1, 2}).size(3), doctest::Contains("dim 3 out of range for a 1-d tensor"));
    CHECK_THROWS_WITH(Tensor::from_i64({1}, {1}).data(), doctest::Contains("expected a float32 tensor, got int64 (1,)"));
    CHECK_THROWS_WITH(reshape(T({2, 3}, {1, 2, 3, 4, 5, 6}), {4, 2}),
                      doctest::Contains("(2, 3) has 6 elements, (4, 2) has 8"));
    CHECK_THROWS_WITH(Tensor().shape(), doctest::Contains("undefined tensor"));
    // the error carries file:line of the check
    CHECK_THROWS_WITH(T({2}, {1}), doctest::Contains("src/core/tensor.cpp:"));
}

TEST_CASE("tensor: CUDA tensors fail cleanly when no GPU backend or device is present") {
    if (cuda_available()) {
        MESSAGE("a GPU is present; the no-GPU path is not exercised here");
        CHECK(cuda_available());
        return;
    }
    CHECK_THROWS_AS(Tensor::empty({2}, DType::F32, Device::CUDA), vsd::Error);
}

TEST_CASE("check: run_main prints one line and returns 1") {
    auto body = [](int, char**) -> int { ENSURE_HINT(false, "do the thing", "expected %d, got %d", 1, 2); return 0; };
    FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    CHECK(run_main(body, 0, nullptr, f) == 1);
    std::rewind(f);
    char line[512] = {0};
    REQUIRE(std::fgets(line, sizeof line, f) != nullptr);
    CHECK(std::string(line).rfind("error: tests/test_tensor.cpp:", 0) == 0);
    CHECK(std::string(line).find("expected 1, got 2 HINT: do the thing\n") != std::string::npos);
    CHECK(std::fgets(line, sizeof line, f) == nullptr);  // exactly one line
    std::fclose(f);
    try {
        ENSURE_HINT(false, "do the thing", "expected %d, got %d", 1, 2);
        FAIL("no throw");
    } catch (const vsd::Error& e) {
        std::string s = e.what();
        CHECK(s.find("expected 1, got 2 HINT: do the thing") != std::string::npos);
        CHECK(s.find('\n') == std::string::npos);  // one line
    }
}

TEST_CASE("tensor: fills, copies, and the first bad element for error messages") {
    Tensor t = Tensor::zeros({2, 3});
    fill(t, 2.5f);
    CHECK(t.to_vector() == std::vector<float>(6, 2.5f));
    fill(t.view_rows(1, 1), 0.0f);
    CHECK(t.to_vector() == std::vector<float>{2.5f, 2.5f, 2.5f, 0, 0, 0});
    Rng a(4), b(4);
    Tensor n = Tensor::empty({5});
    fill_normal(n, 0.5f, a);
    for (float v : n.to_vector()) CHECK(v == 0.5f * b.normal());  // one draw per element, in order
    Tensor u = Tensor::empty({100});
    fill_uniform(u, -2.0f, -1.0f, a);
    for (float v : u.to_vector()) CHECK((v >= -2.0f && v < -1.0f));
    Tensor d = Tensor::empty({2, 3});
    copy_values(d, t);
    CHECK(d.to_vector() == t.to_vector());
    CHECK_THROWS_WITH(copy_values(d, Tensor::zeros({5})), doctest::Contains("copy_values: needs two CPU float tensors"));
    CHECK(first_nonfinite(t) == -1);
    CHECK(describe_nonfinite(t) == "");
    t.data()[4] = INFINITY;
    CHECK(first_nonfinite(t) == 4);
    CHECK(describe_nonfinite(t) == "element 4 (row 1, column 1) is inf");
    Tensor len = Tensor::from_i64({4}, {3, 1, 0, 9});
    CHECK(first_outside(len, 1, 9) == 2);
    CHECK(describe_outside(len, 1, 9) == "element 2 is 0");
    CHECK(describe_outside(len, 0, 9) == "");
    CHECK(first_outside(Tensor::from_i32({2}, {5, 11}), 0, 10) == 1);
}
