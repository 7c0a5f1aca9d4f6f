// Kernel-level parity of the kernels whose families still mix several slices (tests/ops/ holds
// the others, each beside its op's test; kernel_parity.h explains the method). In the emulator
// always, and on a GPU when there is one. Sizes cover the edges: 1, 31, 32, 33, non-multiples of
// the block, empty rows.
#include <cstring>
#include <type_traits>

#include "../kernels/adamw.h"
#include "../kernels/batchnorm.h"
#include "../kernels/cdist.h"
#include "../kernels/dropout.h"
#include "../kernels/embedding.h"
#include "../kernels/gather.h"
#include "../kernels/kmeans.h"
#include "../kernels/l2norm.h"
#include "../kernels/layernorm.h"
#include "../kernels/memory_pool.h"
#include "../kernels/select.h"
#include "../kernels/shape.h"
#include "../kernels/sort.h"
#include "../kernels/gemm.h"
#include "../kernels/gru.h"
#include "../src/train/optim.h"
#include "../kernels/elementwise.h"
#include "../kernels/relation.h"
#include "../kernels/attention.h"
#include "../kernels/reduce.h"
#include "../kernels/softmax.h"
#ifdef USE_CUDA
#include <cuda_runtime.h>
#endif
#include "helpers.h"
#include "ops/kernel_parity.h"

template <class Bk>
void parity_more() {
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
    // layernorm forward and backward
    for (int64_t rows : {1, 7})
        for (int64_t n : {1, 32, 33, 768}) {
            CAPTURE(rows); CAPTURE(n);
            std::vector<float> x = randv(rows * n, n, -2, 2), w = randv(n, n + 1, 0.5f, 1.5f), b = randv(n, n + 2);
            std::vector<float> dy = randv(rows * n, n + 3);
            std::vector<float> y(rows * n), mean(rows), rstd(rows), dx(rows * n, 0.0f), dw(n, 0.0f), db(n, 0.0f);
            layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, 1e-5f);
            layernorm_backward_cpu(dx.data(), dw.data(), db.data(), dy.data(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
            Buf<Bk> X(x), W(w), B(b), Y(rows * n), MEAN(rows), RSTD(rows), DY(dy);
            Buf<Bk> DX(std::vector<float>(rows * n, 0.0f)), DW(std::vector<float>(n, 0.0f)), DB(std::vector<float>(n, 0.0f));
            VSD_RUN(Bk{}, layernorm_forward)(Y.d, MEAN.d, RSTD.d, X.d, W.d, B.d, rows, n, 1e-5f);
            CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
            CHECK_PARITY(RSTD.get(), rstd, 1e-5f, 1e-4f);
            VSD_RUN(Bk{}, layernorm_backward)(DX.d, DW.d, DB.d, DY.d, X.d, MEAN.d, RSTD.d, W.d, rows, n);
            CHECK_PARITY(DX.get(), dx, 1e-4f, 1e-3f);
            CHECK_PARITY(DW.get(), dw, 1e-4f, 1e-3f);
            CHECK_PARITY(DB.get(), db, 1e-4f, 1e-3f);
        }
    // embedding: forward gather, backward scatter-add with a repeated id
    for (int64_t D : {1, 31, 128, 300}) {
        CAPTURE(D);
        const int64_t V = 9, rows = 6;
        std::vector<float> table = randv(V * D, D), dout = randv(rows * D, D + 1);
        std::vector<int64_t> ids = {3, 0, 8, 3, 5, 3};  // id 3 three times
        std::vector<float> out(rows * D), dt(V * D, 0.25f);
        embedding_forward_cpu(out.data(), table.data(), ids.data(), rows, D);
        embedding_backward_cpu(dt.data(), dout.data(), ids.data(), rows, D);
        Buf<Bk> T(table), O(rows * D), DO(dout), DT(std::vector<float>(V * D, 0.25f));
        Buf<Bk, int64_t> I(ids);
        VSD_RUN(Bk{}, embedding_forward)(O.d, T.d, I.d, rows, D);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);  // a copy: exact
        VSD_RUN(Bk{}, embedding_backward)(DT.d, DO.d, I.d, rows, D);
        CHECK_PARITY(DT.get(), dt, 1e-6f, 1e-5f);  // atomics: any order
    }
}

// the 4-d broadcast frame of two shapes (as make_broadcast in src/ops builds it)
static Broadcast frame(Shape a, Shape b) {
    Broadcast bc;
    int64_t sa = 1, sb = 1;
    for (int k = 0; k < 4; k++) {
        int fd = 3 - k;
        int64_t da = k < (int)a.size() ? a[a.size() - 1 - k] : 1, db = k < (int)b.size() ? b[b.size() - 1 - k] : 1;
        bc.shape[fd] = std::max(da, db);
        bc.sa[fd] = da == 1 ? 0 : sa;
        bc.sb[fd] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    return bc;
}

template <class Bk>
void parity_tensor_ops() {
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
    // sums and maxima along each dim of (3, 5, 7)
    const int64_t dims[3] = {3, 5, 7};
    std::vector<float> x = randv(105, 9);
    for (int d = 0; d < 3; d++) {
        CAPTURE(d);
        int64_t outer = 1, inner = 1;
        for (int k = 0; k < d; k++) outer *= dims[k];
        for (int k = d + 1; k < 3; k++) inner *= dims[k];
        const int64_t n = dims[d];
        std::vector<float> y(outer * inner), m(outer * inner);
        std::vector<int64_t> idx(outer * inner);
        sum_dim_forward_cpu(y.data(), x.data(), outer, n, inner, 0.5f);
        max_dim_forward_cpu(m.data(), idx.data(), x.data(), outer, n, inner);
        Buf<Bk> X(x), Y(outer * inner), M(outer * inner);
        Buf<Bk, int64_t> I(outer * inner);
        VSD_RUN(Bk{}, sum_dim)(Y.d, X.d, outer, n, inner, 0.5f);
        VSD_RUN(Bk{}, max_dim)(M.d, I.d, X.d, outer, n, inner);
        CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
        CHECK_PARITY(M.get(), m, 0.0f, 0.0f);
        CHECK(I.get() == idx);
    }
    // masked_fill and where with broadcast masks
    {
        Broadcast bc = frame({2, 3, 4}, {2, 3, 1});
        std::vector<float> xv = randv(24, 3), mask = {1, 0, 0, 1, 1, 0}, out(24);
        masked_fill_cpu(out.data(), xv.data(), mask.data(), -7.0f, bc);
        Buf<Bk> X(xv), M(mask), O(24);
        VSD_RUN(Bk{}, masked_fill)(O.d, X.d, M.d, -7.0f, bc);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        Broadcast wc = frame({2, 3, 4}, {3, 4});
        std::vector<float> cond = randv(12, 4, 0, 1), bv = randv(24, 5), w(24);
        for (float& c : cond) c = c > 0.5f ? 1.0f : 0.0f;
        where_cpu(w.data(), cond.data(), xv.data(), bv.data(), wc);
        Buf<Bk> C(cond), Bb(bv), W(24);
        VSD_RUN(Bk{}, where)(W.d, C.d, X.d, Bb.d, wc);
        CHECK_PARITY(W.get(), w, 0.0f, 0.0f);
    }
    // gather along the middle dim, and its scatter-add backward (repeated indices)
    {
        const int64_t outer = 2, n = 5, m = 4, inner = 3;
        std::vector<float> xv = randv(outer * n * inner, 6), g = randv(outer * m * inner, 7), out(outer * m * inner);
        std::vector<int64_t> index(outer * m * inner);
        Rng r(8);
        for (int64_t& v : index) v = (int64_t)r.randint(n);
        std::vector<float> dx(outer * n * inner, 0.0f);
        gather_cpu(out.data(), xv.data(), index.data(), outer, n, m, inner);
        gather_backward_cpu(dx.data(), g.data(), index.data(), outer, n, m, inner);
        Buf<Bk> X(xv), O(outer * m * inner), G(g), DX(std::vector<float>(outer * n * inner, 0.0f));
        Buf<Bk, int64_t> I(index);
        VSD_RUN(Bk{}, gather)(O.d, X.d, I.d, outer, n, m, inner);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        VSD_RUN(Bk{}, gather_backward)(DX.d, G.d, I.d, outer, n, m, inner);
        CHECK_PARITY(DX.get(), dx, 1e-6f, 1e-5f);
    }
    // permute, slab copy (narrow / concat, with accumulate), dropout, cdist
    {
        const int64_t shape[4] = {2, 3, 4, 5};
        const int perm[4] = {3, 1, 0, 2};
        std::vector<float> xv = randv(120, 10), out(120);
        permute_cpu(out.data(), xv.data(), shape, perm, false);
        Buf<Bk> X(xv), O(120);
        VSD_RUN(Bk{}, permute)(O.d, X.d, shape, perm);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);
        std::vector<float> dst = randv(2 * 6 * 3, 11), src = randv(2 * 4 * 3, 12);
        for (bool acc : {false, true}) {
            std::vector<float> want = dst;
            slab_copy_cpu(want.data(), 6, 2, src.data(), 4, 1, 3, 2, 3, acc);
            Buf<Bk> D(dst), S(src);
            VSD_RUN(Bk{}, slab_copy)(D.d, 6, 2, S.d, 4, 1, 3, 2, 3, acc);
            CHECK_PARITY(D.get(), want, 1e-6f, 1e-6f);
        }
        // dropout: the same counter-based mask on both sides, forward and backward (exactly)
        std::vector<float> y(120), dy = randv(120, 15), dx(120, 0.5f);
        dropout_forward_cpu(y.data(), xv.data(), 120, 0.3f, 77);
        dropout_backward_cpu(dx.data(), dy.data(), 120, 0.3f, 77);
        Buf<Bk> Y(120), DY(dy), DX(std::vector<float>(120, 0.5f));
        VSD_RUN(Bk{}, dropout_forward)(Y.d, X.d, 120, 0.3f, 77);
        VSD_RUN(Bk{}, dropout_backward)(DX.d, DY.d, 120, 0.3f, 77);
        CHECK_PARITY(Y.get(), y, 0.0f, 0.0f);
        CHECK_PARITY(DX.get(), dx, 0.0f, 0.0f);
        std::vector<float> a = randv(5 * 7, 13), b = randv(4 * 7, 14), dist(20);
        cdist_forward_cpu(dist.data(), a.data(), b.data(), 5, 4, 7);
        Buf<Bk> A(a), B(b), DD(20);
        VSD_RUN(Bk{}, cdist)(DD.d, A.d, B.d, 5, 4, 7);
        CHECK_PARITY(DD.get(), dist, 1e-6f, 1e-5f);
        // backward, accumulating into 0.5; a zero distance (b row 0 = a row 2) contributes nothing
        std::copy(a.begin() + 2 * 7, a.begin() + 3 * 7, b.begin());
        cdist_forward_cpu(dist.data(), a.data(), b.data(), 5, 4, 7);
        std::vector<float> g = randv(20, 15), ga(5 * 7, 0.5f), gb(4 * 7, 0.5f);
        cdist_backward_cpu(ga.data(), gb.data(), g.data(), dist.data(), a.data(), b.data(), 5, 4, 7);
        Buf<Bk> A2(a), B2(b), D2(dist), G(g), GA(std::vector<float>(5 * 7, 0.5f)), GB(std::vector<float>(4 * 7, 0.5f));
        VSD_RUN(Bk{}, cdist_backward)(GA.d, GB.d, G.d, D2.d, A2.d, B2.d, 5, 4, 7);
        CHECK_PARITY(GA.get(), ga, 1e-5f, 1e-4f);
        CHECK_PARITY(GB.get(), gb, 1e-5f, 1e-4f);
    }
}

template <class Bk>
void parity_nn_ops() {
    // batchnorm, training and eval
    for (bool training : {true, false}) {
        const int64_t N = 37, C = 5;
        std::vector<float> x = randv(N * C, 21, -2, 2), w = randv(C, 22, 0.5f, 1.5f), b = randv(C, 23), dy = randv(N * C, 24);
        std::vector<float> rm = randv(C, 25), rv = randv(C, 26, 0.5f, 1.5f);
        std::vector<float> y(N * C), mean(C), rstd(C), rm2 = rm, rv2 = rv, dx(N * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
        batchnorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rm2.data(), rv2.data(), N, C, training, 0.1f, 1e-5f);
        batchnorm_backward_cpu(dx.data(), dw.data(), db.data(), dy.data(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
        Buf<Bk> X(x), W(w), B(b), Y(N * C), M(C), R(C), RM(rm), RV(rv), DY(dy);
        Buf<Bk> DX(std::vector<float>(N * C, 0.0f)), DW(std::vector<float>(C, 0.0f)), DB(std::vector<float>(C, 0.0f));
        VSD_RUN(Bk{}, batchnorm_forward)(Y.d, M.d, R.d, X.d, W.d, B.d, RM.d, RV.d, N, C, training, 0.1f, 1e-5f);
        CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
        CHECK_PARITY(RM.get(), rm2, 1e-6f, 1e-5f);
        CHECK_PARITY(RV.get(), rv2, 1e-6f, 1e-5f);
        VSD_RUN(Bk{}, batchnorm_backward)(DX.d, DW.d, DB.d, DY.d, X.d, M.d, R.d, W.d, N, C, training);
        CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);
        CHECK_PARITY(DW.get(), dw, 1e-5f, 1e-4f);
        CHECK_PARITY(DB.get(), db, 1e-5f, 1e-4f);
    }
    // sort and top-k along each dim, with ties (values on a coarse grid)
    const int64_t dims[3] = {3, 9, 4};
    std::vector<float> x(108);
    Rng r(30);
    for (float& v : x) v = (float)((int)r.randint(5));
    for (int d = 0; d < 3; d++)
        for (bool desc : {false, true}) {
            CAPTURE(d); CAPTURE(desc);
            int64_t outer = 1, inner = 1;
            for (int k = 0; k < d; k++) outer *= dims[k];
            for (int k = d + 1; k < 3; k++) inner *= dims[k];
            const int64_t n = dims[d], k = std::max<int64_t>(1, n - 2);
            std::vector<float> vals(outer * k * inner);
            std::vector<int64_t> idx(outer * k * inner);
            sort_cpu(vals.data(), idx.data(), x.data(), outer, n, inner, k, desc);
            Buf<Bk> X(x), V(outer * k * inner);
            Buf<Bk, int64_t> I(outer * k * inner);
            VSD_RUN(Bk{}, sort_lines)(V.d, I.d, X.d, outer, n, inner, k, desc);
            CHECK_PARITY(V.get(), vals, 0.0f, 0.0f);
            CHECK(I.get() == idx);  // stable: the same order among ties
        }
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
    // AdamW against the optimiser class, 3 steps
    {
        const int64_t n = 50;
        std::vector<float> p0 = randv(n, 40), m(n, 0.0f), v(n, 0.0f);
        Tensor P = Tensor::from({n}, p0).requires_grad();
        AdamW opt({ParamGroup{{P}, 1.0f, 0.01f}}, 1e-2f);
        Buf<Bk> DP(p0), DM(m), DV(v);
        for (int step = 1; step <= 3; step++) {
            std::vector<float> g = randv(n, 41 + step);
            std::copy(g.begin(), g.end(), P.grad());
            opt.step();
            Buf<Bk> DG(g);
            VSD_RUN(Bk{}, adamw_update)(DP.d, DG.d, DM.d, DV.d, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f - std::pow(0.9f, (float)step),
                             std::sqrt(1.0f - std::pow(0.999f, (float)step)));
        }
        CHECK_PARITY(DP.get(), P.to_vector(), 1e-6f, 1e-5f);
    }
}



KERNEL_PARITY(parity_nn_ops, "batchnorm, stable sort/top-k, a GRU direction from the gate kernels, AdamW")
KERNEL_PARITY(parity_tensor_ops, "broadcast binary ops, reductions along a dim, masks, gather, permute, copies, dropout, cdist (+ backward)")
KERNEL_PARITY(parity_more, "softmax backward, layernorm forward/backward, embedding forward/backward")
TEST_CASE("memory pool: blocks are reused by size, statistics add up, the cache empties") {
    using namespace vsd::sim;
    pool_empty_cache();
    const PoolStats s0 = pool_stats();
    void* a = pool_alloc(1000);   // rounds to 1024
    void* b = pool_alloc(3 << 20); // rounds to 3 MiB
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes + 1024 + (3u << 20));
    pool_free(a);
    CHECK(pool_stats().cached_bytes == 1024);
    void* c = pool_alloc(600);    // 1024 again: reused, no new cudaMalloc
    CHECK(c == a);
    CHECK(pool_stats().hits == s0.hits + 1);
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    void* d = pool_alloc(2000);   // 2048: a different size, a new block
    CHECK(pool_stats().mallocs == s0.mallocs + 3);
    pool_free(b);
    pool_free(c);
    pool_free(d);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes);
    CHECK(pool_stats().peak_bytes >= 1024 + (3u << 20) + 2048);
    CHECK(pool_stats_str().find("cudaMalloc calls") != std::string::npos);
    pool_empty_cache();
    CHECK(pool_stats().cached_bytes == 0);
    CHECK_THROWS_WITH(pool_free(a), doctest::Contains("was not allocated by the pool"));
}
