// The bias fusions (kernels/bias_fused.*, src/ops/bias_fused.cpp): bias + GELU, bias + dropout + residual.
#include "../../kernels/bias_fused.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(bias_fused, "a linear's bias fused with the GELU, or with dropout and the residual add", {0}) {
    auto gelu_case = [](Inputs x) { return bias_gelu(x[0], x[1]); };
    auto residual = [](float p) {
        return [p](Inputs x) {
            Rng r(11);  // a fresh generator per call: every run draws the same seed
            return bias_dropout_add(x[0], x[1], x[2], p, p > 0.0f ? &r : nullptr);
        };
    };
    return {
        OpCase("gelu, 7 x 33", {rnd({7, 33}, 1, -2, 2), rnd({33}, 2)}, gelu_case),
        OpCase("gelu, (2, 3, 5): rows over two dims", {rnd({2, 3, 5}, 3, -2, 2), rnd({5}, 4)}, gelu_case),
        OpCase("gelu, 0 rows", {rnd({0, 4}, 5), rnd({4}, 6)}, gelu_case),
        OpCase("residual, no dropout, 9 x 40", {rnd({9, 40}, 7), rnd({9, 40}, 8), rnd({40}, 9)}, residual(0.0f)),
        OpCase("residual, dropout 0.3, 6 x 11", {rnd({6, 11}, 10), rnd({6, 11}, 11), rnd({11}, 12)}, residual(0.3f)),
        OpCase("residual, dropout 0.1, 300 x 65 (rows past the lanes, columns past a warp)",
               {rnd({300, 65}, 13), rnd({300, 65}, 14), rnd({65}, 15)}, residual(0.1f))
            .no_gradcheck(),
    };
}

// ---- the same bits as the unfused ops (on the CPU): linear's bias add, gelu / dropout and add ----

TEST_CASE("bias_gelu and bias_dropout_add: the same bits as the unfused ops, values and gradients") {
    Tensor x0 = rnd({12, 10}, 1), w = rnd({16, 10}, 2), b = rnd({16}, 3), h0 = rnd({12, 16}, 4), g = rnd({12, 16}, 5);
    for (int which = 0; which < 3; which++) {  // gelu; residual without dropout; residual with dropout 0.25
        CAPTURE(which);
        std::vector<Tensor> fused = {x0.clone(), w.clone(), b.clone(), h0.clone()}, plain = {x0.clone(), w.clone(), b.clone(), h0.clone()};
        for (auto* set : {&fused, &plain})
            for (Tensor& t : *set) t.requires_grad(true);
        Rng r1(9), r2(9);
        Tensor y1 = which == 0 ? bias_gelu(linear(fused[0], fused[1]), fused[2])
                               : bias_dropout_add(fused[3], linear(fused[0], fused[1]), fused[2], 0.25f, which == 2 ? &r1 : nullptr);
        backward(sum(y1 * g));
        Tensor t = linear(plain[0], plain[1], plain[2]);
        Tensor y2 = which == 0 ? gelu(t) : plain[3] + (which == 2 ? dropout(t, 0.25f, true, r2) : t);
        backward(sum(y2 * g));
        CHECK_CLOSE(y1, y2, 0.0, 0.0);
        for (int i = 0; i < (which == 0 ? 3 : 4); i++) {
            CAPTURE(i);
            CHECK(fused[i].grad_tensor().to_vector() == plain[i].grad_tensor().to_vector());
        }
    }
}

// ---- kernel level: the device against the CPU reference (kernel_parity.h) ------------------------

template <class Bk>
void parity_bias_fused() {
    struct Case { BiasFused op; int64_t rows, n; float p; };
    for (Case c : {Case{BiasFused::Gelu, 1, 1, 0}, Case{BiasFused::Gelu, 37, 70, 0}, Case{BiasFused::DropoutResidual, 37, 70, 0},
                   Case{BiasFused::DropoutResidual, 129, 33, 0.2f}, Case{BiasFused::DropoutResidual, 0, 5, 0.2f}}) {
        CAPTURE((int)c.op); CAPTURE(c.rows); CAPTURE(c.n); CAPTURE(c.p);
        const int64_t m = c.rows * c.n;
        const std::vector<float> z = randv(m, 1), b = randv(c.n, 2), h = randv(m, 3), dy = randv(m, 4);
        const std::vector<float> dz0 = randv(m, 5), db0 = randv(c.n, 6), dh0 = randv(m, 7);  // gradients start nonzero
        std::vector<float> y(m), dz = dz0, db = db0, dh = dh0;
        bias_fused_forward_cpu(c.op, y.data(), z.data(), b.data(), h.data(), c.rows, c.n, c.p, 42);
        bias_fused_backward_cpu(c.op, dz.data(), db.data(), dh.data(), dy.data(), z.data(), b.data(), c.rows, c.n, c.p, 42);
        Buf<Bk> Z(z), B(b), H(h), Y(m), DY(dy), DZ(dz0), DB(db0), DH(dh0);
        VSD_RUN(Bk{}, bias_fused_forward)(c.op, Y.d, Z.d, B.d, H.d, c.rows, c.n, c.p, 42);
        VSD_RUN(Bk{}, bias_fused_backward)(c.op, DZ.d, DB.d, DH.d, DY.d, Z.d, B.d, c.rows, c.n, c.p, 42);
        CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
        CHECK_PARITY(DZ.get(), dz, 1e-6f, 1e-5f);
        CHECK_PARITY(DB.get(), db, 1e-5f, 1e-4f);  // the bias sum: another order of the same terms
        CHECK_PARITY(DH.get(), dh, 0.0f, 0.0f);
    }
}
KERNEL_PARITY(parity_bias_fused, "bias + GELU and bias + dropout + residual, forward and backward (the column sums)")
