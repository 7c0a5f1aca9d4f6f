// The dropout slice (kernels/dropout.*, src/ops/dropout.cpp).
#include "../../kernels/dropout.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(dropout, "inverted dropout: the same seed drops the same elements on every device", {0}) {
    auto drop = [](float p) {
        return [p](Inputs x) {
            Rng r(5);  // a fresh generator per call: every run draws the same seed
            return dropout(x[0], p, true, r);
        };
    };
    return {
        OpCase("p 0.3, 6 x 11", {rnd({6, 11}, 39)}, drop(0.3f)),
        OpCase("p 0.5, 1000 elements", {rnd({1000}, 40)}, drop(0.5f)).no_gradcheck(),
        OpCase("p 0 keeps everything", {rnd({3, 3}, 41)}, drop(0.0f)),
        OpCase("no element", {rnd({0}, 42)}, drop(0.2f)),
    };
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_dropout() {
    // dropout: the same counter-based mask on both sides, forward and backward (exactly)
    {
        std::vector<float> xv = randv(120, 10);
        Buf<Bk> X(xv);
        std::vector<float> y(120), dy = randv(120, 15), dx(120, 0.5f);
        dropout_forward_cpu(y.data(), xv.data(), 120, 0.3f, 77);
        dropout_backward_cpu(dx.data(), dy.data(), 120, 0.3f, 77);
        Buf<Bk> Y(120), DY(dy), DX(std::vector<float>(120, 0.5f));
        VSD_RUN(Bk{}, dropout_forward)(Y.d, X.d, 120, 0.3f, 77);
        VSD_RUN(Bk{}, dropout_backward)(DX.d, DY.d, 120, 0.3f, 77);
        CHECK_PARITY(Y.get(), y, 0.0f, 0.0f);
        CHECK_PARITY(DX.get(), dx, 0.0f, 0.0f);
    }
}
KERNEL_PARITY(parity_dropout, "dropout forward and backward, the same mask exactly")
