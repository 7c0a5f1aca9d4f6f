// AdamW, gradient clipping and step decay against hand-computed values.
#include "../src/train/optim.h"
#include "helpers.h"

TEST_CASE("AdamW: constant gradient, steps by hand") {
    // With a constant gradient g, m_t/(1-b1^t) = g and v_t/(1-b2^t) = g^2 exactly, so each step is
    //   p <- p (1 - lr wd) - lr * g / (|g| + eps)
    const float lr = 0.1f, wd = 0.01f, g = 0.5f, eps = 1e-8f;
    Tensor p = T({1}, {1.0f}).requires_grad();
    AdamW opt({ParamGroup{{p}, 1.0f, wd}}, lr, 0.9f, 0.999f, eps);
    double expect = 1.0;
    for (int t = 1; t <= 3; t++) {
        p.grad()[0] = g;
        opt.step();
        expect = expect * (1.0 - lr * wd) - lr * g / (g + eps);
        CHECK(p.data()[0] == doctest::Approx(expect).epsilon(1e-6));
    }
    // by hand: 1 -> 0.899 -> 0.7981010 -> 0.6973029
    CHECK(p.data()[0] == doctest::Approx(0.6973029).epsilon(1e-6));
    CHECK(opt.steps() == 3);
}

TEST_CASE("AdamW: varying gradients match a scalar double-precision transcription of PyTorch's update") {
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    const double grads[4] = {1.0, -0.5, 0.25, 2.0};
    double w = 0.3, m = 0, v = 0;
    Tensor p = T({1}, {0.3f}).requires_grad();
    AdamW opt({ParamGroup{{p}, 1.0f, (float)wd}}, (float)lr);
    for (int t = 1; t <= 4; t++) {
        double gr = grads[t - 1];
        w *= 1 - lr * wd;
        m = b1 * m + (1 - b1) * gr;
        v = b2 * v + (1 - b2) * gr * gr;
        w -= (lr / (1 - std::pow(b1, t))) * m / (std::sqrt(v) / std::sqrt(1 - std::pow(b2, t)) + eps);
        p.zero_grad();
        p.grad()[0] = (float)gr;
        opt.step();
        CAPTURE(t);
        CHECK(p.data()[0] == doctest::Approx(w).epsilon(1e-6));
    }
}

TEST_CASE("AdamW: lr multipliers per group, set_lr, params without gradient are skipped") {
    Tensor a = T({1}, {0}).requires_grad(), b = T({1}, {0}).requires_grad(), c = T({1}, {5}).requires_grad();
    AdamW opt({ParamGroup{{a}, 1.0f, 0.0f}, ParamGroup{{b, c}, 0.1f, 0.5f}}, 1.0f);
    a.grad()[0] = 1.0f;
    b.grad()[0] = 1.0f;  // c never gets a gradient
    opt.step();
    CHECK(a.data()[0] == doctest::Approx(-1.0).epsilon(1e-6));   // first step moves by lr * sign(g)
    CHECK(b.data()[0] == doctest::Approx(-0.1).epsilon(1e-6));   // group lr 0.1
    CHECK(c.data()[0] == 5.0f);                                 // untouched: no decay, no update
    opt.set_lr(0.5f);
    opt.zero_grad();
    CHECK(a.grad()[0] == 0.0f);
    a.grad()[0] = 1.0f;
    opt.step();
    CHECK(a.data()[0] == doctest::Approx(-1.5).epsilon(1e-5));
    CHECK(opt.params().size() == 3);
}

TEST_CASE("clip_grad_norm: global norm, scaled only when above the limit") {
    Tensor a = T({2}, {0, 0}).requires_grad(), b = T({1}, {0}).requires_grad();
    a.grad()[0] = 3.0f;
    a.grad()[1] = 0.0f;
    b.grad()[0] = 4.0f;  // global norm 5
    float n = clip_grad_norm({a, b}, 2.0f);
    CHECK(n == doctest::Approx(5.0));
    CHECK(a.grad()[0] == doctest::Approx(3.0 * 2.0 / (5.0 + 1e-6)));
    CHECK(b.grad()[0] == doctest::Approx(4.0 * 2.0 / (5.0 + 1e-6)));
    float n2 = clip_grad_norm({a, b}, 10.0f);  // now ~2 < 10: unchanged
    CHECK(n2 == doctest::Approx(2.0).epsilon(1e-5));
    CHECK(b.grad()[0] == doctest::Approx(8.0 / (5.0 + 1e-6)));
}

TEST_CASE("step decay: x0.1 at each milestone") {
    CHECK(step_decay_lr(5e-4f, 0, {15}) == doctest::Approx(5e-4));
    CHECK(step_decay_lr(5e-4f, 14, {15}) == doctest::Approx(5e-4));
    CHECK(step_decay_lr(5e-4f, 15, {15}) == doctest::Approx(5e-5));
    CHECK(step_decay_lr(5e-4f, 24, {15, 25}) == doctest::Approx(5e-5));
    CHECK(step_decay_lr(5e-4f, 25, {15, 25}) == doctest::Approx(5e-6));
}

TEST_CASE("training loop: linear regression converges with AdamW + clipping") {
    // y = 2x - 1 from 32 points; the loss must fall by 100x (an end-to-end check of tape + optimiser)
    Rng rng(0);
    Tensor x = Tensor::rand({32, 1}, rng, -1, 1);
    Tensor y = x * 2.0f - 1.0f;
    Tensor w = Tensor::zeros({1, 1}).requires_grad(), b = Tensor::zeros({1}).requires_grad();
    AdamW opt({ParamGroup{{w, b}, 1.0f, 0.0f}}, 0.05f);
    float first = 0, last = 0;
    for (int it = 0; it < 300; it++) {
        opt.zero_grad();
        Tensor d = linear(x, w, b) - y;
        Tensor loss = mean(d * d);
        if (it == 0) first = loss.item();
        last = loss.item();
        backward(loss);
        clip_grad_norm({w, b}, 2.0f);
        opt.step();
    }
    CHECK(last < first / 100);
    CHECK(w.data()[0] == doctest::Approx(2.0).epsilon(0.02));
    CHECK(b.data()[0] == doctest::Approx(-1.0).epsilon(0.02));
}

TEST_CASE("AdamW: a parameter that joins late gets its own step count (PyTorch's per-parameter state)") {
    // b receives its first gradient at step 3; torch.optim.AdamW starts its state then, so its first
    // update is the bias-corrected lr * g / (|g| + eps) = lr (g = 2, no weight decay), not ~3.16 lr
    Tensor a = Tensor::zeros({1}).requires_grad(), b = Tensor::zeros({1}).requires_grad();
    AdamW opt({ParamGroup{{a, b}, 1.0f, 0.0f}}, 0.1f);
    for (int s = 0; s < 3; s++) {
        opt.zero_grad();
        a.grad()[0] = 1.0f;
        if (s == 2) b.grad()[0] = 2.0f;
        opt.step();
    }
    CHECK(b.data()[0] == doctest::Approx(-0.1f).epsilon(1e-5));
    CHECK(opt.param_steps()[0] == 3);
    CHECK(opt.param_steps()[1] == 1);
}
