// The softmax slice (kernels/softmax.*, src/ops/softmax.cpp).
#include "../../kernels/softmax.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(softmax, "softmax and log_softmax over the last dim, masks, fully masked rows", {1, 2}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 31, 32, 33, 100}) {
        Tensor keep = Tensor::ones({6, n});
        for (int64_t k = 0; k < n; k += 3) keep.data()[2 * n + k] = 0.0f;  // a partly masked row
        for (int64_t k = 0; k < n; k++) keep.data()[4 * n + k] = 0.0f;     // a fully masked row
        const std::string sz = "6 x " + std::to_string(n);
        cases.push_back(OpCase("softmax " + sz, {rnd({6, n}, n, -4, 4), keep}, [](Inputs x) { return softmax(x[0], x[1]); })
                            .constant({1}));
        cases.push_back(OpCase("log_softmax " + sz, {rnd({6, n}, n + 1, -4, 4), keep},
                               [](Inputs x) { return log_softmax(x[0], x[1]); })
                            .constant({1})
                            .no_gradcheck());  // -inf at masked positions: not differentiable there
    }
    cases.push_back(OpCase("no mask, 3 x 40", {rnd({3, 40}, 31)}, [](Inputs x) { return log_softmax(x[0]); }));
    cases.push_back(OpCase("no row", {rnd({0, 5}, 32)}, [](Inputs x) { return softmax(x[0]); }));
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_softmax() {
    for (int v : {1, 2})
        for (bool lg : {false, true})
            for (int64_t n : {1, 31, 32, 33, 100}) {
                CAPTURE(v); CAPTURE(lg); CAPTURE(n);
                const int64_t rows = 6;
                std::vector<float> x = randv(rows * n, n, -4, 4), m(rows * n, 1.0f);
                for (int64_t k = 0; k < n; k += 3) m[2 * n + k] = 0.0f;  // a partly masked row
                for (int64_t k = 0; k < n; k++) m[4 * n + k] = 0.0f;     // a fully masked row
                std::vector<float> y(rows * n), y2(rows * n);
                softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
                softmax_forward_cpu(y2.data(), x.data(), nullptr, rows, n, lg);
                Buf<Bk> X(x), M(m), Y(rows * n), Y2(rows * n);
                VSD_RUN(Bk{}, softmax_forward)(Y.d, X.d, M.d, rows, n, lg, v);
                VSD_RUN(Bk{}, softmax_forward)(Y2.d, X.d, nullptr, rows, n, lg, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(Y2.get(), y2, 1e-6f, 1e-5f);
            }
}
KERNEL_PARITY(parity_softmax, "softmax and log-softmax (v1, v2), masks, fully masked rows")

template <class Bk>
void parity_softmax_backward() {
    // softmax backward, both forms, with a partly masked row
    for (bool lg : {false, true})
        for (int64_t n : {1, 31, 33, 100}) {
            CAPTURE(lg); CAPTURE(n);
            const int64_t rows = 5;
            std::vector<float> x = randv(rows * n, n, -3, 3), dy = randv(rows * n, n + 7), m(rows * n, 1.0f);
            for (int64_t k = 0; k < n; k += 2) m[n + k] = 0.0f;
            std::vector<float> y(rows * n), dx(rows * n, 0.5f);
            softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
            softmax_backward_cpu(dx.data(), dy.data(), y.data(), m.data(), rows, n, lg);
            Buf<Bk> Y(y), DY(dy), M(m), DX(std::vector<float>(rows * n, 0.5f));
            VSD_RUN(Bk{}, softmax_backward)(DX.d, DY.d, Y.d, M.d, rows, n, lg);
            CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);
        }
}
KERNEL_PARITY(parity_softmax_backward, "softmax backward, both forms, a partly masked row")
