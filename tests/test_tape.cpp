// Autograd tape: accumulation, explicit zero_grad, no-grad scope, nothing retained.
#include "helpers.h"

TEST_CASE("tape: a tensor used twice receives the sum of both gradients") {
    Tensor x = T({2}, {3, -2}).requires_grad();
    Tensor y = sum(x * x + x);  // dy/dx = 2x + 1
    backward(y);
    CHECK(x.grad_tensor().to_vector() == std::vector<float>{7, -3});
}

TEST_CASE("tape: gradients accumulate across backward calls until zero_grad") {
    Tensor x = T({1}, {2}).requires_grad();
    backward(sum(x * 3.0f));
    backward(sum(x * 3.0f));
    CHECK(x.grad_tensor().item() == 6.0f);  // 3 + 3: accumulated, not overwritten
    x.zero_grad();
    backward(sum(x * 3.0f));
    CHECK(x.grad_tensor().item() == 3.0f);
}

TEST_CASE("tape: records in order, runs in reverse, and is empty after backward") {
    tape().clear();
    Tensor x = T({2}, {1, 2}).requires_grad();
    Tensor y = exp(x);
    Tensor z = sum(y);
    auto names = tape().names();
    REQUIRE(names.size() >= 3);
    CHECK(std::string(names[0]) == "exp");
    CHECK(std::string(names.back()) == "sum");
    backward(z);
    CHECK(tape().size() == 0);
    CHECK(x.grad_tensor().to_vector()[1] == doctest::Approx(std::exp(2.0)).epsilon(1e-6));
}

TEST_CASE("tape: NoGrad records nothing and outputs do not require grad") {
    tape().clear();
    Tensor x = T({2}, {1, 2}).requires_grad();
    {
        NoGrad ng;
        Tensor y = exp(x) * 2.0f;
        CHECK_FALSE(y.needs_grad());
        CHECK(tape().size() == 0);
    }
    Tensor y = exp(x);
    CHECK(y.needs_grad());
    CHECK(tape().size() == 1);
    tape().clear();
}

TEST_CASE("tape: inputs that need no grad are not recorded") {
    tape().clear();
    Tensor a = T({2}, {1, 2}), b = T({2}, {3, 4});
    Tensor c = a * b;
    CHECK_FALSE(c.needs_grad());
    CHECK(tape().size() == 0);
    CHECK_THROWS_WITH(backward(sum(c)), doctest::Contains("does not require grad"));
}

TEST_CASE("tape: backward of a non-scalar needs a seed of the same shape") {
    tape().clear();
    Tensor x = T({2}, {1, 2}).requires_grad();
    Tensor y = x * 2.0f;
    CHECK_THROWS_WITH(tape().backward(y), doctest::Contains("needs a scalar loss"));
    tape().clear();
    y = x * 2.0f;
    tape().backward(y, T({2}, {1, 10}));
    CHECK(x.grad_tensor().to_vector() == std::vector<float>{2, 20});
}

TEST_CASE("tape: captured activations are released after backward") {
    tape().clear();
    Tensor x = T({3}, {1, 2, 3}).requires_grad();
    std::weak_ptr<TensorImpl> weak;
    {
        Tensor y = exp(x);  // the closure of the next op captures y
        weak = y.impl_ptr();
        backward(sum(y * 2.0f));
    }
    CHECK(weak.expired());  // nothing retained after the step
}

// An op whose backward is deliberately wrong (twice the true derivative of x^2): gradcheck must
// reject it and name the element. This is what makes every CHECK_GRAD above meaningful.
static Tensor square_with_wrong_backward(const Tensor& x) {
    Tensor y = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); i++) y.data()[i] = x.data()[i] * x.data()[i];
    record("bad_square", {x}, y, [x, y]() {
        for (int64_t i = 0; i < x.numel(); i++) x.grad()[i] += 4.0f * x.data()[i] * y.grad()[i];  // should be 2x
    });
    return y;
}

TEST_CASE("gradcheck: rejects a wrong backward and reports the worst element") {
    GradcheckResult bad = gradcheck([](std::vector<Tensor>& in) { return square_with_wrong_backward(in[0]); },
                                    {T({3}, {0.5f, -1.0f, 2.0f})});
    CHECK_FALSE(bad.ok);
    CHECK(bad.worst_ratio > 10.0);
    CHECK(bad.report.find("input 0 (3,), element") != std::string::npos);
    GradcheckResult good = gradcheck([](std::vector<Tensor>& in) { return in[0] * in[0]; }, {T({3}, {0.5f, -1.0f, 2.0f})});
    CHECK_MESSAGE(good.ok, good.report);
}
