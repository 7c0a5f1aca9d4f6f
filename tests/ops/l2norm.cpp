// The l2norm slice (kernels/l2norm.*, src/ops/l2norm.cpp).
#include "../../kernels/l2norm.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(l2norm, "x / (||x|| + eps) along the last dim, a zero row included", {1, 2}) {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 31, 32, 33, 300}) {
        Tensor x = rnd({5, n}, n);
        for (int64_t k = 0; k < n; k++) x.data()[n + k] = 0.0f;  // a zero row: its gradient is dy / eps
        OpCase c("5 x " + std::to_string(n), {x}, [](Inputs in) { return l2norm(in[0]); });
        cases.push_back(c.no_gradcheck());  // the zero row has a huge (1/eps) slope: differenced below
    }
    cases.push_back(OpCase("no zero row, 4 x 9", {rnd({4, 9}, 35)}, [](Inputs in) { return l2norm(in[0]); }));
    cases.push_back(OpCase("no row", {rnd({0, 9}, 36)}, [](Inputs in) { return l2norm(in[0]); }));
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_l2norm() {
    for (int v : {1, 2})
        for (int64_t rows : {1, 5, 33})
            for (int64_t n : {1, 31, 32, 33, 300}) {
                CAPTURE(v); CAPTURE(rows); CAPTURE(n);
                std::vector<float> x = randv(rows * n, 1 + n), dy = randv(rows * n, 2 + n);
                if (rows > 2) std::fill(x.begin() + n, x.begin() + 2 * n, 0.0f);  // a zero row
                std::vector<float> y(rows * n), nr(rows), dx(rows * n, 0.5f);
                l2norm_forward_cpu(y.data(), nr.data(), x.data(), rows, n, 1e-8f);
                l2norm_backward_cpu(dx.data(), dy.data(), x.data(), nr.data(), rows, n, 1e-8f);
                Buf<Bk> X(x), Y(rows * n), N(rows), DY(dy), DX(std::vector<float>(rows * n, 0.5f));
                VSD_RUN(Bk{}, l2norm_forward)(Y.d, N.d, X.d, rows, n, 1e-8f, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(N.get(), nr, 1e-6f, 1e-5f);
                VSD_RUN(Bk{}, l2norm_backward)(DX.d, DY.d, X.d, N.d, rows, n, 1e-8f);
                CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);  // accumulates into 0.5, as the CPU does
            }
}
KERNEL_PARITY(parity_l2norm, "l2norm forward (v1, v2) and backward")
