// The gru slice: one GRU direction over ragged sequences (kernels/gru.*, src/ops/gru.cpp).
#include "../../kernels/gru.h"
#include "../../kernels/gemm.h"
#include "../../kernels/elementwise.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(gru, "a GRU direction, both ways, ragged lengths, garbage in the padding", {0}) {
    Tensor lengths = Tensor::from_i64({3}, {5, 2, 4});
    Tensor x = rnd({3, 5, 4}, 50);
    for (int64_t t = 2; t < 5; t++)
        for (int64_t i = 0; i < 4; i++) x.data()[(1 * 5 + t) * 4 + i] = 99.0f;  // must never be read
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
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_gru() {
    // a whole GRU direction, composed on the device from gemm + the per-step gate kernels
    for (bool rev : {false, true}) {
        CAPTURE(rev);
        const int64_t B = 3, T = 5, I = 4, H = 6, G = 3 * H;
        std::vector<int64_t> len = {5, 2, 4};
        std::vector<float> xv = randv(B * T * I, 31), wih = randv(G * I, 32), whh = randv(G * H, 33), bih = randv(G, 34),
                           bhh = randv(G, 35), dy = randv(B * T * H, 36);
        for (int64_t b = 0; b < B; b++)  // padded positions of the input hold garbage: they must not matter
            for (int64_t t = len[b]; t < T; t++)
                for (int64_t i = 0; i < I; i++) xv[(b * T + t) * I + i] = 99.0f;
        std::vector<float> y(B * T * H), dx(B * T * I, 0.0f);
        GruCache cache;
        gru_forward_cpu(y.data(), cache, xv.data(), len.data(), wih.data(), whh.data(), bih.data(), bhh.data(), B, T, I, H, rev);
        gru_backward_cpu(dx.data(), nullptr, nullptr, nullptr, nullptr, dy.data(), cache, xv.data(), len.data(), wih.data(),
                         whh.data(), B, T, I, H, rev);
        // forward: gx = x W_ih^T + b_ih, then the steps
        Buf<Bk> X(xv), WIH(wih), WHH(whh), BIH(bih), BHH(bhh), GX(B * T * G), GH(B * G), Hs(std::vector<float>(B * H, 0.0f));
        Buf<Bk> Y(std::vector<float>(B * T * H, 0.0f)), Rg(std::vector<float>(B * T * H, 0.0f)), Zg(std::vector<float>(B * T * H, 0.0f));
        Buf<Bk> Ng(std::vector<float>(B * T * H, 0.0f)), HN(std::vector<float>(B * T * H, 0.0f)), HP(std::vector<float>(B * T * H, 0.0f));
        VSD_RUN(Bk{}, gemm)(false, true, B * T, G, I, 1.0f, X.d, I, WIH.d, I, 0.0f, GX.d, G, 2);
        VSD_RUN(Bk{}, binary_forward)(Binary::Add, GX.d, GX.d, BIH.d, frame({B * T, G}, {G}));
        auto positions = [&](int64_t s) {
            std::vector<int64_t> pos(B);
            for (int64_t b = 0; b < B; b++) pos[b] = s >= len[b] ? -1 : (rev ? len[b] - 1 - s : s);
            return pos;
        };
        for (int64_t s = 0; s < T; s++) {
            Buf<Bk, int64_t> P(positions(s));
            VSD_RUN(Bk{}, gemm)(false, true, B, G, H, 1.0f, Hs.d, H, WHH.d, H, 0.0f, GH.d, G, 2);
            VSD_RUN(Bk{}, gru_gates_forward)(Y.d, Hs.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, GX.d, GH.d, BHH.d, P.d, B, T, H);
        }
        CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
        CHECK_PARITY(Rg.get(), cache.r, 1e-5f, 1e-4f);
        // backward: the steps in reverse, dh += dgh W_hh between them, then dx = dgx W_ih
        Buf<Bk> DY(dy), DGX(std::vector<float>(B * T * G, 0.0f)), DGH(B * G), DH(std::vector<float>(B * H, 0.0f));
        Buf<Bk> DX(std::vector<float>(B * T * I, 0.0f));
        for (int64_t s = T - 1; s >= 0; s--) {
            Buf<Bk, int64_t> P(positions(s));
            VSD_RUN(Bk{}, gru_gates_backward)(DGX.d, DGH.d, DH.d, DY.d, Rg.d, Zg.d, Ng.d, HN.d, HP.d, P.d, B, T, H);
            VSD_RUN(Bk{}, gemm)(false, false, B, H, G, 1.0f, DGH.d, G, WHH.d, H, 1.0f, DH.d, H, 2);
        }
        VSD_RUN(Bk{}, gemm)(false, false, B * T, I, G, 1.0f, DGX.d, G, WIH.d, I, 1.0f, DX.d, I, 2);
        CHECK_PARITY(DX.get(), dx, 1e-4f, 1e-3f);
    }
}
KERNEL_PARITY(parity_gru, "a whole GRU direction from gemm and the per-step gate kernels")
