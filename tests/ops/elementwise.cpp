// The elementwise slice: unary maps and broadcasting binary ops (kernels/elementwise.*, src/ops/elementwise.cpp).
#include "../../kernels/elementwise.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(unary, "every unary map, forward and backward", {0}) {
    // inputs away from the kinks of relu, abs, clamp and leaky_relu, and positive where log/sqrt/pow need it
    Tensor x = distinct({5, 37}, 9), pos = rnd({3, 33}, 10, 0.5f, 2.0f);
    return {
        OpCase("exp", {x}, [](Inputs in) { return exp(in[0]); }),
        OpCase("log", {pos}, [](Inputs in) { return log(in[0]); }),
        OpCase("sqrt", {pos}, [](Inputs in) { return sqrt(in[0]); }),
        OpCase("pow 1.5", {pos}, [](Inputs in) { return pow(in[0], 1.5f); }),
        OpCase("abs", {x}, [](Inputs in) { return abs(in[0]); }),
        OpCase("clamp", {x}, [](Inputs in) { return clamp(in[0], -0.33f, 0.47f); }),
        OpCase("relu", {x}, [](Inputs in) { return relu(in[0]); }),
        OpCase("leaky_relu 0.1", {x}, [](Inputs in) { return leaky_relu(in[0], 0.1f); }),
        OpCase("gelu", {x}, [](Inputs in) { return gelu(in[0]); }),
        OpCase("tanh", {x}, [](Inputs in) { return tanh(in[0]); }),
        OpCase("sigmoid", {x}, [](Inputs in) { return sigmoid(in[0]); }),
        OpCase("quick_gelu", {x}, [](Inputs in) { return quick_gelu(in[0]); }),
        OpCase("add and mul a scalar", {x}, [](Inputs in) { return in[0] * 0.7f + 0.1f; }),
        OpCase("one element", {rnd({1}, 11)}, [](Inputs in) { return tanh(in[0]); }),
        OpCase("no element", {rnd({0, 3}, 12)}, [](Inputs in) { return exp(in[0]); }),
        OpCase("more than a block of threads (1000)", {rnd({1000}, 13)}, [](Inputs in) { return sigmoid(in[0]); }).no_gradcheck(),
    };
}

OP_TEST(binary, "add, sub, mul, div with numpy broadcasting", {0}) {
    return {
        OpCase("add (3,1,5) + (4,5)", {rnd({3, 1, 5}, 1), rnd({4, 5}, 2)}, [](Inputs x) { return x[0] + x[1]; }),
        OpCase("sub, same shapes, 2 x 33", {rnd({2, 33}, 3), rnd({2, 33}, 4)}, [](Inputs x) { return x[0] - x[1]; }),
        OpCase("mul (2,3,4) * (3,1)", {rnd({2, 3, 4}, 5), rnd({3, 1}, 6)}, [](Inputs x) { return x[0] * x[1]; }),
        OpCase("div by a broadcast row", {rnd({7, 3}, 7), rnd({3}, 8, 0.5f, 2.0f)}, [](Inputs x) { return x[0] / x[1]; }),
        OpCase("4-d both ways (2,1,3,1) * (1,4,1,5)", {rnd({2, 1, 3, 1}, 9), rnd({1, 4, 1, 5}, 10)},
               [](Inputs x) { return x[0] * x[1]; }),
        OpCase("a scalar tensor broadcast", {rnd({5, 6}, 11), rnd({}, 12)}, [](Inputs x) { return x[0] + x[1]; }),
        OpCase("no element", {rnd({0, 4}, 13), rnd({4}, 14)}, [](Inputs x) { return x[0] * x[1]; }),
        OpCase("257 rows broadcast into one: many adds to one address", {rnd({257, 3}, 15), rnd({3}, 16)},
               [](Inputs x) { return x[0] * x[1]; }).no_gradcheck(),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("binary ops with broadcasting: values") {
    Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor row = T({3}, {10, 20, 30}), col = T({2, 1}, {100, 200});
    CHECK((a + row).to_vector() == std::vector<float>{11, 22, 33, 14, 25, 36});
    CHECK((a - col).to_vector() == std::vector<float>{-99, -98, -97, -196, -195, -194});
    CHECK((a * row).to_vector() == std::vector<float>{10, 40, 90, 40, 100, 180});
    CHECK((row / T({1}, {10})).to_vector() == std::vector<float>{1, 2, 3});
    CHECK((col + row).shape() == Shape{2, 3});  // both sides broadcast
    CHECK((T({2, 1, 3}, std::vector<float>(6, 1)) * T({4, 1}, std::vector<float>(4, 2))).shape() == Shape{2, 4, 3});
    CHECK_THROWS_WITH(a + T({2}, {1, 2}), doctest::Contains("shapes (2, 3) and (2,) do not broadcast"));
}

TEST_CASE("binary ops: gradients reduce over broadcast dims") {
    Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad();
    Tensor r = T({3}, {1, 1, 1}).requires_grad();
    backward(sum(a * r));
    CHECK(r.grad_tensor().to_vector() == std::vector<float>{5, 7, 9});  // column sums of a
    for (auto op : {0, 1, 2, 3}) {
        CAPTURE(op);
        auto f = [op](std::vector<Tensor>& in) {
            switch (op) {
                case 0: return in[0] + in[1];
                case 1: return in[0] - in[1];
                case 2: return in[0] * in[1];
                default: return in[0] / in[1];
            }
        };
        CHECK_GRAD(f, {rnd({2, 3, 4}, 1), rnd({3, 1}, 2, 0.5f, 2.0f)});
        CHECK_GRAD(f, {rnd({1, 4}, 3), rnd({3, 1}, 4, 0.5f, 2.0f)});
    }
}

TEST_CASE("scalar ops: values and gradients") {
    Tensor a = T({3}, {1, -2, 4});
    CHECK((a + 1.5f).to_vector() == std::vector<float>{2.5f, -0.5f, 5.5f});
    CHECK((a * -2.0f).to_vector() == std::vector<float>{-2, 4, -8});
    CHECK((1.0f - a).to_vector() == std::vector<float>{0, 3, -3});
    CHECK((a / 4.0f).to_vector() == std::vector<float>{0.25f, -0.5f, 1});
    CHECK((-a).to_vector() == std::vector<float>{-1, 2, -4});
    CHECK_GRAD([](std::vector<Tensor>& in) { return (in[0] + 3.0f) * 0.5f; }, {rnd({2, 3}, 5)});
}

// unary ops: f against a closed form evaluated in double at awkward points
TEST_CASE("unary ops: values") {
    std::vector<float> xs = {-2.5f, -1.0f, -0.3f, 0.2f, 0.7f, 1.9f};
    Tensor x = T({6}, xs), xp = T({6}, {0.1f, 0.5f, 1.0f, 2.0f, 3.5f, 9.0f});
    auto close = [](const Tensor& t, std::function<double(double)> f, const std::vector<float>& in) {
        std::vector<float> v = t.to_vector();
        for (size_t i = 0; i < in.size(); i++) CHECK(v[i] == doctest::Approx(f(in[i])).epsilon(1e-6));
    };
    std::vector<float> pos = xp.to_vector();
    close(exp(x), [](double v) { return std::exp(v); }, xs);
    close(log(xp), [](double v) { return std::log(v); }, pos);
    close(sqrt(xp), [](double v) { return std::sqrt(v); }, pos);
    close(pow(xp, 1.5f), [](double v) { return std::pow(v, 1.5); }, pos);
    close(pow(x, 2.0f), [](double v) { return v * v; }, xs);
    close(abs(x), [](double v) { return std::fabs(v); }, xs);
    close(relu(x), [](double v) { return v > 0 ? v : 0; }, xs);
    close(leaky_relu(x, 0.1f), [](double v) { return v > 0 ? v : 0.1 * v; }, xs);
    close(tanh(x), [](double v) { return std::tanh(v); }, xs);
    close(sigmoid(x), [](double v) { return 1 / (1 + std::exp(-v)); }, xs);
    close(clamp(x, -1.0f, 0.5f), [](double v) { return v < -1 ? -1 : (v > 0.5 ? 0.5 : v); }, xs);
    close(gelu(x), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, xs);
    // known GELU values (erf form): gelu(1) = 0.8413447, gelu(-1) = -0.1586553
    CHECK(gelu(T({2}, {1, -1})).to_vector()[0] == doctest::Approx(0.8413447).epsilon(1e-6));
    CHECK(gelu(T({2}, {1, -1})).to_vector()[1] == doctest::Approx(-0.1586553).epsilon(1e-6));
    close(quick_gelu(x), [](double v) { return v / (1 + std::exp(-1.702 * v)); }, xs);
    // by hand: quick_gelu(1) = 1 / (1 + e^-1.702) = 0.8457957, quick_gelu(-1) = -0.1542043
    CHECK(quick_gelu(T({2}, {1, -1})).to_vector()[0] == doctest::Approx(0.8457957).epsilon(1e-6));
    CHECK(quick_gelu(T({2}, {1, -1})).to_vector()[1] == doctest::Approx(-0.1542043).epsilon(1e-6));
    CHECK(exp(T({0}, {})).numel() == 0);  // empty
}

TEST_CASE("unary ops: gradcheck (inputs away from kinks)") {
    Tensor x = rnd({3, 5}, 11, -2.0f, 2.0f);
    Tensor away = distinct({3, 5}, 12);          // |x| >= 0.05: no kink at 0
    Tensor pos = rnd({3, 5}, 13, 0.3f, 3.0f);
    CHECK_GRAD([](std::vector<Tensor>& in) { return exp(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return log(in[0]); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return sqrt(in[0]); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return pow(in[0], 2.5f); }, {pos});
    CHECK_GRAD([](std::vector<Tensor>& in) { return abs(in[0]); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return relu(in[0]); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return leaky_relu(in[0], 0.1f); }, {away});
    CHECK_GRAD([](std::vector<Tensor>& in) { return gelu(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return tanh(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return sigmoid(in[0]); }, {x});
    CHECK_GRAD([](std::vector<Tensor>& in) { return quick_gelu(in[0]); }, {x});
    // clamp bounds chosen between the distinct values (which sit at 0.05 + 0.1 k)
    CHECK_GRAD([](std::vector<Tensor>& in) { return clamp(in[0], -0.3f, 0.4f); }, {away});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_unary() {
    const Unary ops[] = {Unary::Exp, Unary::Log, Unary::Sqrt, Unary::Abs, Unary::Relu, Unary::LeakyRelu, Unary::Gelu,
                         Unary::Tanh, Unary::Sigmoid, Unary::Pow, Unary::Clamp, Unary::AddScalar, Unary::MulScalar};
    for (Unary op : ops)
        for (int64_t n : {1, 255, 256, 257, 3000}) {
            CAPTURE(unary_name(op)); CAPTURE(n);
            bool positive = op == Unary::Log || op == Unary::Sqrt || op == Unary::Pow;
            std::vector<float> x = randv(n, n, positive ? 0.1f : -3.0f, 3.0f), dy = randv(n, n + 1);
            const float a = op == Unary::Clamp ? -0.5f : 0.3f, b = 0.7f;
            std::vector<float> y(n), dx(n, 0.25f);
            unary_forward_cpu(op, y.data(), x.data(), n, a, b);
            unary_backward_cpu(op, dx.data(), dy.data(), x.data(), y.data(), n, a, b);
            Buf<Bk> X(x), Y(n), DY(dy), DX(std::vector<float>(n, 0.25f));
            VSD_RUN(Bk{}, unary_forward)(op, Y.d, X.d, n, a, b);
            CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
            Buf<Bk> Yc(y);  // the backward reads the forward output: give it the reference's
            VSD_RUN(Bk{}, unary_backward)(op, DX.d, DY.d, X.d, Yc.d, n, a, b);
            CHECK_PARITY(DX.get(), dx, 1e-6f, 1e-5f);
        }
}
KERNEL_PARITY(parity_unary, "every unary op, forward and backward")

template <class Bk>
void parity_binary() {
    // broadcasting binary ops, forward and backward (the backward reduces over broadcast dims)
    // (a bias over 300 rows and 40 columns: more than one block of columns, 8 lanes of many rows)
    const std::pair<Shape, Shape> shapes[] = {{{2, 3, 4}, {3, 1}}, {{5}, {5}}, {{1, 33}, {7, 1}}, {{2, 1, 3, 1}, {4, 1, 1}},
                                              {{300, 40}, {40}}, {{300, 1}, {300, 40}}};
    for (auto [sa, sb] : shapes)
        for (Binary op : {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div}) {
            std::string opname = binary_name(op);
            CAPTURE(opname);
            Broadcast bc = frame(sa, sb);
            const int64_t na = shape_numel(sa), nb = shape_numel(sb), n = bc.numel();
            std::vector<float> a = randv(na, na), b = randv(nb, nb + 1, 0.5f, 2.0f), g = randv(n, n + 2);
            std::vector<float> out(n), da(na, 0.1f), db(nb, 0.2f);
            binary_forward_cpu(op, out.data(), a.data(), b.data(), bc);
            binary_backward_cpu(op, da.data(), db.data(), g.data(), a.data(), b.data(), bc);
            Buf<Bk> A(a), B(b), O(n), G(g), DA(std::vector<float>(na, 0.1f)), DB(std::vector<float>(nb, 0.2f));
            VSD_RUN(Bk{}, binary_forward)(op, O.d, A.d, B.d, bc);
            CHECK_PARITY(O.get(), out, 1e-6f, 1e-5f);
            VSD_RUN(Bk{}, binary_backward)(op, DA.d, DB.d, G.d, A.d, B.d, bc);
            CHECK_PARITY(DA.get(), da, 1e-5f, 1e-4f);
            CHECK_PARITY(DB.get(), db, 1e-5f, 1e-4f);
            // the same bits on every run: the emulator runs a block's threads in the opposite order
            // on alternate launches, which changes the order of any atomic float additions
            for (int run = 0; run < 2; run++) {
                Buf<Bk> DA2(std::vector<float>(na, 0.1f)), DB2(std::vector<float>(nb, 0.2f));
                VSD_RUN(Bk{}, binary_backward)(op, DA2.d, DB2.d, G.d, A.d, B.d, bc);
                CHECK(DA2.get() == DA.get());
                CHECK(DB2.get() == DB.get());
            }
        }
}
KERNEL_PARITY(parity_binary, "broadcast binary ops, forward and backward (fixed-order sums: the same bits every run)")

OP_TEST(to_float, "index tensors (int64, int32) as floats, made on their device; no gradient", {0}) {
    return {
        OpCase("int64, 300", {rnd_lengths(300, 1000, 5)}, [](Inputs x) { return to_float(x[0]); }),
        OpCase("int32 with negatives", {Tensor::from_i32({2, 3}, {-4, 0, 7, 2147483647, -1, 3})},
               [](Inputs x) { return to_float(x[0]); }),
        OpCase("none", {Tensor::from_i64({0}, {})}, [](Inputs x) { return to_float(x[0]); }),
    };
}

TEST_CASE("op to_float: hand values") {
    CHECK(to_float(Tensor::from_i64({3}, {0, -2, 5})).to_vector() == std::vector<float>{0, -2, 5});
    CHECK(to_float(Tensor::from_i32({2}, {16777217, 1})).to_vector() == std::vector<float>{16777216.0f, 1});  // float rounding
}
