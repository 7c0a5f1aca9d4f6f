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
    const std::pair<Shape, Shape> shapes[] = {{{2, 3, 4}, {3, 1}}, {{5}, {5}}, {{1, 33}, {7, 1}}, {{2, 1, 3, 1}, {4, 1, 1}}};
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
        }
}
KERNEL_PARITY(parity_binary, "broadcast binary ops, forward and backward (atomics over broadcast dims)")
