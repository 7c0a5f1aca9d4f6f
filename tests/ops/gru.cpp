// The gru slice: one GRU direction over ragged sequences (kernels/gru.*, src/ops/gru.cpp).
#include "../../kernels/gru.h"
#include "../../kernels/gemm.h"
#include "../../kernels/elementwise.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(gru, "a GRU direction, both ways, ragged lengths (an empty one), garbage in the padding", {1, 2}) {
    Tensor lengths = Tensor::from_i64({4}, {5, 2, 4, 0});
    Tensor x = rnd({4, 5, 4}, 50);
    for (int64_t b : {1, 3})  // padded positions must never be read
        for (int64_t t = b == 1 ? 2 : 0; t < 5; t++)
            for (int64_t i = 0; i < 4; i++) x.data()[(b * 5 + t) * 4 + i] = 99.0f;
    std::vector<OpCase> cases;
    for (bool rev : {false, true}) {
        cases.push_back(OpCase(rev ? "reverse" : "forward", {x, rnd({18, 4}, 51), rnd({18, 6}, 52), rnd({18}, 53), rnd({18}, 54), lengths},
                               [rev](Inputs in) { return gru(in[0], in[5], in[1], in[2], in[3], in[4], rev); })
                            .tol(5e-5, 5e-4).gradcheck_tol(2e-3, 2e-2));
    }
    Tensor one = Tensor::from_i64({2}, {1, 1});
    cases.push_back(OpCase("one step each, hidden 33", {rnd({2, 1, 3}, 55), rnd({99, 3}, 56), rnd({99, 33}, 57), rnd({99}, 58), rnd({99}, 59), one},
                           [](Inputs in) { return gru(in[0], in[5], in[1], in[2], in[3], in[4], false); })
                        .tol(5e-5, 5e-4).no_gradcheck());
    // the widest version 2 takes (3H = 192 threads a block), and one past it (version 1 always)
    for (int64_t H : {kGruRecurrenceMaxHidden, kGruRecurrenceMaxHidden + 1}) {
        Tensor len = Tensor::from_i64({2}, {3, 2});
        cases.push_back(OpCase(strfmt("hidden %lld, reverse", (long long)H),
                               {rnd({2, 3, 5}, 60), rnd({3 * H, 5}, 61, -0.2f, 0.2f), rnd({3 * H, H}, 62, -0.2f, 0.2f),
                                rnd({3 * H}, 63), rnd({3 * H}, 64), len},
                               [](Inputs in) { return gru(in[0], in[5], in[1], in[2], in[3], in[4], true); })
                            .tol(5e-5, 5e-4).no_gradcheck());
    }
    return cases;
}

OP_TEST(bigru, "both GRU directions in one op (stacked buffers, one launch for both on the device)", {1, 2}) {
    std::vector<OpCase> cases;
    for (int64_t H : {(int64_t)6, kGruRecurrenceMaxHidden + 1}) {  // versions 1 and 2; one past version 2 (1 only)
        Tensor lengths = Tensor::from_i64({3}, {4, 1, 3});
        std::vector<Tensor> in = {rnd({3, 4, 5}, 80)};
        for (int t = 0; t < 8; t++) {
            const Shape sh = t % 4 == 0 ? Shape{3 * H, 5} : t % 4 == 1 ? Shape{3 * H, H} : Shape{3 * H};
            in.push_back(rnd(sh, 81 + t, -0.3f, 0.3f));
        }
        in.push_back(lengths);
        OpCase c(strfmt("hidden %lld", (long long)H), in, [](Inputs v) {
            return bigru(v[0], v[9], {v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]});
        });
        c.tol(5e-5, 5e-4);
        if (H > 8) c.no_gradcheck();
        else c.gradcheck_tol(2e-3, 2e-2);
        cases.push_back(c);
    }
    return cases;
}

TEST_CASE("bigru is exactly two gru() calls, values and gradients") {
    const int64_t B = 3, T = 4, I = 5, H = 6;
    Tensor x = rnd({B, T, I}, 90).requires_grad(), lengths = Tensor::from_i64({B}, {4, 2, 3});
    std::vector<Tensor> w;
    for (int t = 0; t < 8; t++)
        w.push_back(rnd(t % 4 == 0 ? Shape{3 * H, I} : t % 4 == 1 ? Shape{3 * H, H} : Shape{3 * H}, 91 + t).requires_grad());
    Tensor y = bigru(x, lengths, w);
    REQUIRE(y.shape() == Shape({2, B, T, H}));
    Tensor g = rnd({2, B, T, H}, 99);
    backward(sum(y * g));
    std::vector<Tensor> grads_bi;
    for (const Tensor& t : w) grads_bi.push_back(t.grad_tensor().clone());
    Tensor dx_bi = x.grad_tensor().clone();
    x.zero_grad();
    for (Tensor& t : w) t.zero_grad();
    Tensor f = gru(x, lengths, w[0], w[1], w[2], w[3], false), r = gru(x, lengths, w[4], w[5], w[6], w[7], true);
    CHECK(f.to_vector() == std::vector<float>(y.data(), y.data() + B * T * H));
    CHECK(r.to_vector() == std::vector<float>(y.data() + B * T * H, y.data() + 2 * B * T * H));
    const Shape one = {B, T, H};
    backward(sum(f * reshape(narrow(g, 0, 0, 1), one)) + sum(r * reshape(narrow(g, 0, 1, 1), one)));
    CHECK(x.grad_tensor().to_vector() == dx_bi.to_vector());
    for (size_t t = 0; t < w.size(); t++) CHECK(w[t].grad_tensor().to_vector() == grads_bi[t].to_vector());
}

// ---- kernel level: both versions, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_gru() {
    // a whole GRU direction: gx from gemm, the walk by version 1 (gemm + per-step gate kernels) or
    // version 2 (one launch each way), then dx from gemm and dW_hh from the per-position dgh
    for (int version : {1, 2})
        for (bool rev : {false, true}) {
            CAPTURE(version);
            CAPTURE(rev);
            const int64_t B = 3, T = 5, I = 4, H = 6, G = 3 * H;
            std::vector<int64_t> len = {5, 2, 4};
            std::vector<float> xv = randv(B * T * I, 31), wih = randv(G * I, 32), whh = randv(G * H, 33), bih = randv(G, 34),
                               bhh = randv(G, 35), dy = randv(B * T * H, 36);
            for (int64_t b = 0; b < B; b++)  // padded positions of the input hold garbage: they must not matter
                for (int64_t t = len[b]; t < T; t++)
                    for (int64_t i = 0; i < I; i++) xv[(b * T + t) * I + i] = 99.0f;
            std::vector<float> y(B * T * H), dx(B * T * I, 0.0f), dwhh(G * H, 0.0f), dbhh(G, 0.0f);
            GruCache cache;
            gru_forward_cpu(y.data(), cache, xv.data(), len.data(), wih.data(), whh.data(), bih.data(), bhh.data(), B, T, I, H, rev);
            gru_backward_cpu(dx.data(), nullptr, dwhh.data(), nullptr, dbhh.data(), dy.data(), cache, xv.data(), len.data(),
                             wih.data(), whh.data(), B, T, I, H, rev);
            // forward: gx = x W_ih^T + b_ih, then the walk
            auto out = [&](int64_t n) { return std::vector<float>(n, NAN); };  // both versions write every element
            Buf<Bk> X(xv), WIH(wih), WHH(whh), BIH(bih), BHH(bhh), GX(B * T * G), GH(B * G), Hs(std::vector<float>(B * H, 0.0f));
            Buf<Bk> Y(out(B * T * H)), Rg(out(B * T * H)), Zg(out(B * T * H)), Ng(out(B * T * H)), HN(out(B * T * H)), HP(out(B * T * H));
            Buf<Bk, int64_t> Len(len);
            GruRecurrent rw;
            rw.w_hh[0] = WHH.d, rw.b_hh[0] = BHH.d;
            VSD_RUN(Bk{}, gemm)(false, true, B * T, G, I, 1.0f, X.d, I, WIH.d, I, 0.0f, GX.d, G, 2);
            VSD_RUN(Bk{}, binary_forward)(Binary::Add, GX.d, GX.d, BIH.d, frame({B * T, G}, {G}));
            if (version == 2)
                VSD_RUN(Bk{}, gru_recurrence_forward)(Y.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, GX.d, rw, Len.d, rev, 1, B, T, H);
            else
                for (int64_t s = 0; s < T; s++) {
                    VSD_RUN(Bk{}, gemm)(false, true, B, G, H, 1.0f, Hs.d, H, WHH.d, H, 0.0f, GH.d, G, 2);
                    VSD_RUN(Bk{}, gru_gates_forward)(Y.d, Hs.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, GX.d, GH.d, rw, Len.d, s, rev, 1, B, T, H);
                }
            CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
            CHECK_PARITY(Rg.get(), cache.r, 1e-5f, 1e-4f);
            CHECK_PARITY(HP.get(), cache.hprev, 1e-5f, 1e-4f);
            // backward: the walk in reverse, then dx = dgx W_ih and dW_hh = dghs^T h_prev
            Buf<Bk> DY(dy), DGX(out(B * T * G)), DGHS(out(B * T * G)), DGH(B * G), DH(std::vector<float>(B * H, 0.0f));
            Buf<Bk> DX(std::vector<float>(B * T * I, 0.0f)), DWHH(std::vector<float>(G * H, 0.0f));
            if (version == 2)
                VSD_RUN(Bk{}, gru_recurrence_backward)(DGX.d, DGHS.d, DY.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, rw, Len.d, rev, 1, B, T, H);
            else
                for (int64_t s = T - 1; s >= 0; s--) {
                    VSD_RUN(Bk{}, gru_gates_backward)(DGX.d, DGH.d, DGHS.d, DH.d, DY.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, Len.d, s, rev, 1, B, T, H);
                    VSD_RUN(Bk{}, gemm)(false, false, B, H, G, 1.0f, DGH.d, G, WHH.d, H, 1.0f, DH.d, H, 2);
                }
            VSD_RUN(Bk{}, gemm)(false, false, B * T, I, G, 1.0f, DGX.d, G, WIH.d, I, 1.0f, DX.d, I, 2);
            VSD_RUN(Bk{}, gemm)(true, false, G, H, B * T, 1.0f, DGHS.d, G, HP.d, H, 1.0f, DWHH.d, H, 2);
            CHECK_PARITY(DX.get(), dx, 1e-4f, 1e-3f);
            CHECK_PARITY(DWHH.get(), dwhh, 1e-4f, 1e-3f);
            // db_hh is the column sum of dghs
            const std::vector<float> dghs = DGHS.get();
            std::vector<float> db(G, 0.0f);
            for (int64_t row = 0; row < B * T; row++)
                for (int64_t g = 0; g < G; g++) db[g] += dghs[row * G + g];
            CHECK_PARITY(db, dbhh, 1e-4f, 1e-3f);
        }
}
KERNEL_PARITY(parity_gru, "a whole GRU direction: version 1 (gemm + per-step gates) and version 2 (one launch a walk)")
