// The attention slice: fused multi-head attention, forward and backward (kernels/attention.*, src/ops/attention.cpp).
#include "../../kernels/attention.h"
#include "kernel_parity.h"
#include "op_test.h"
#include "../../src/nn/layers.h"  // multi_head_attention, the unfused path

OP_TEST(attention, "fused attention, key masks, a query row with no visible key, dropout on the probabilities", {0}) {
    std::vector<OpCase> cases;
    for (int64_t d : {1, 8, 33})
        for (int64_t L : {1, 5, 33}) {
            const int64_t B = 2, A = 3;
            Tensor keep = Tensor::ones({B, L});
            for (int64_t t = 0; t < L; t += 2) keep.data()[L + t] = 0.0f;  // sample 1 sees odd keys only
            if (L == 1) keep.data()[1] = 0.0f;                              // ... and none when L = 1
            cases.push_back(OpCase("L " + std::to_string(L) + ", head dim " + std::to_string(d),
                                   {rnd({B, L, A * d}, L + d), rnd({B, L, A * d}, L + d + 1), rnd({B, L, A * d}, L + d + 2), keep},
                                   [](Inputs x) { return attention(x[0], x[1], x[2], x[3], 3); })
                                .constant({3}));
        }
    cases.push_back(OpCase("no mask", {rnd({1, 4, 8}, 1), rnd({1, 4, 8}, 2), rnd({1, 4, 8}, 3)},
                           [](Inputs x) { return attention(x[0], x[1], x[2], Tensor(), 2); }));
    // the projections' biases added inside (with their gradients), a mask and dropout
    Tensor keep2 = Tensor::ones({2, 5});
    keep2.data()[5 + 4] = 0.0f;
    cases.push_back(OpCase("biases, dropout 0.2, 2 x 5 tokens, 2 heads of 3",
                           {rnd({2, 5, 6}, 7), rnd({2, 5, 6}, 8), rnd({2, 5, 6}, 9), keep2, rnd({6}, 10), rnd({6}, 11), rnd({6}, 12)},
                           [](Inputs x) {
                               Rng r(4);
                               return attention(x[0], x[1], x[2], x[3], 2, 0.2f, &r, x[4], x[5], x[6]);
                           })
                        .constant({3}));
    // dropout 0.3 on the probabilities: the same seed on every device (a fresh generator per call)
    Tensor keep = Tensor::ones({2, 6});
    keep.data()[6 + 5] = 0.0f;
    cases.push_back(OpCase("dropout 0.3, 2 x 6 tokens, 2 heads of 5", {rnd({2, 6, 10}, 4), rnd({2, 6, 10}, 5), rnd({2, 6, 10}, 6), keep},
                           [](Inputs x) {
                               Rng r(9);
                               return attention(x[0], x[1], x[2], x[3], 2, 0.3f, &r);
                           })
                        .constant({3}));
    return cases;
}

// The fused op against the unfused one (matmul, softmax, dropout, matmul, permutes: the training
// path that the official-code fixtures test), with the same dropout draw: values and gradients.
TEST_CASE("attention (fused) = multi_head_attention (unfused), with a key mask, dropout and the projections' biases") {
    const int64_t B = 3, L = 7, A = 2, d = 4, H = A * d;
    Tensor keep = Tensor::ones({B, L});
    for (int64_t t = 4; t < L; t++) keep.data()[t] = 0.0f;  // sample 0: 4 real tokens
    for (bool biased : {false, true})
        for (float p : {0.0f, 0.25f}) {
            CAPTURE(biased);
            CAPTURE(p);
            // q, k, v, then the biases
            std::vector<Tensor> in = {rnd({B, L, H}, 31), rnd({B, L, H}, 32), rnd({B, L, H}, 33), rnd({H}, 35), rnd({H}, 36), rnd({H}, 37)};
            std::vector<Tensor> in2;
            for (Tensor& t : in) in2.push_back(t.clone());
            for (Tensor& t : in) t.requires_grad(true);
            for (Tensor& t : in2) t.requires_grad(true);
            Tensor g = rnd({B, L, H}, 34);
            Rng r1(5), r2(5);
            Tensor a = biased ? attention(in[0], in[1], in[2], keep, A, p, &r1, in[3], in[4], in[5])
                              : attention(in[0], in[1], in[2], keep, A, p, &r1);
            backward(sum(a * g));  // (backward runs the whole tape: one graph at a time)
            Tensor mask = attention_mask(reshape(keep, {B, 1, 1, L}), B, A, L);
            Tensor b = biased ? multi_head_attention(in2[0] + in2[3], in2[1] + in2[4], in2[2] + in2[5], A, mask, Tensor(), p, &r2)
                              : multi_head_attention(in2[0], in2[1], in2[2], A, mask, Tensor(), p, &r2);
            backward(sum(b * g));
            CHECK(r1.next_u64() == r2.next_u64());  // the same number of draws
            CHECK_CLOSE(a, b, 1e-6, 1e-5);
            for (int i = 0; i < (biased ? 6 : 3); i++) {
                CAPTURE(i);
                CHECK_CLOSE(in[i].grad_tensor(), in2[i].grad_tensor(), 1e-6, 1e-5);
            }
        }
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_attention() {
    struct Case { int64_t B, L, A, d; float p; bool biased; };
    for (Case c : {Case{1, 1, 1, 1, 0.0f, false}, Case{2, 5, 3, 4, 0.5f, true}, Case{2, 31, 2, 33, 0.0f, false},
                   Case{1, 33, 4, 32, 0.1f, true}, Case{3, 40, 12, 64, 0.1f, false}, Case{3, 9, 2, 40, 0.2f, true}}) {
        CAPTURE(c.B); CAPTURE(c.L); CAPTURE(c.A); CAPTURE(c.d); CAPTURE(c.p); CAPTURE(c.biased);
        const int64_t H = c.A * c.d, n = c.B * c.L * H, np = c.B * c.A * c.L * c.L;
        std::vector<float> q = randv(n, 60 + c.L), k = randv(n, 61 + c.L), v = randv(n, 62 + c.L), keep(c.B * c.L, 1.0f);
        for (int64_t t = c.L / 2 + 1; t < c.L; t++) keep[t] = 0.0f;                   // batch 0: padding at the end
        if (c.B > 2) std::fill(keep.begin() + 2 * c.L, keep.begin() + 3 * c.L, 0.0f);  // batch 2: nothing visible
        const std::vector<float> dout = randv(n, 63 + c.L), g0 = randv(n, 64 + c.L);  // gradients start nonzero
        const std::vector<float> bq = randv(H, 65), bk = randv(H, 66), bv = randv(H, 67), db0 = randv(H, 68);
        Buf<Bk> Q(q), K(k), V(v), KP(keep), DO(dout), BQ(bq), BK(bk), BV(bv);
        for (bool masked : {false, true}) {
            CAPTURE(masked);
            const float* kp = masked ? keep.data() : nullptr;
            AttnArgs a{c.B, c.L, c.A, c.d, 0.125f, c.p, 7};
            AttnArgs ad = a;  // the same, with device pointers
            if (c.biased) a.bq = bq.data(), a.bk = bk.data(), a.bv = bv.data(), ad.bq = BQ.d, ad.bk = BK.d, ad.bv = BV.d;
            std::vector<float> out(n), P(np), dS(np);
            attention_forward_cpu(out.data(), q.data(), k.data(), v.data(), kp, P.data(), a);
            Buf<Bk> O(n), PP(np), DS(np);
            VSD_RUN(Bk{}, attention_forward)(O.d, Q.d, K.d, V.d, masked ? KP.d : nullptr, PP.d, ad);
            CHECK_PARITY(O.get(), out, 1e-5f, 1e-4f);
            CHECK_PARITY(PP.get(), P, 1e-6f, 1e-4f);
            for (bool acc : {true, false}) {  // add to the gradients, or write them (the scratch of the biased op)
                CAPTURE(acc);
                std::vector<float> dq = g0, dk = g0, dv = g0;
                attention_backward_cpu(dq.data(), dk.data(), dv.data(), acc, dout.data(), q.data(), k.data(), v.data(),
                                       P.data(), dS.data(), a);
                Buf<Bk> DQ(g0), DK(g0), DV(g0);
                VSD_RUN(Bk{}, attention_backward)(DQ.d, DK.d, DV.d, acc, DO.d, Q.d, K.d, V.d, PP.d, DS.d, ad);
                CHECK_PARITY(DS.get(), dS, 1e-5f, 1e-4f);
                CHECK_PARITY(DQ.get(), dq, 1e-5f, 1e-4f);
                CHECK_PARITY(DK.get(), dk, 1e-5f, 1e-4f);
                CHECK_PARITY(DV.get(), dv, 1e-5f, 1e-4f);
            }
            // inference: no P, and no dropout
            AttnArgs a0 = a, ad0 = ad;
            a0.p = ad0.p = 0.0f;
            std::vector<float> out0(n);
            attention_forward_cpu(out0.data(), q.data(), k.data(), v.data(), kp, nullptr, a0);
            Buf<Bk> O0(n);
            VSD_RUN(Bk{}, attention_forward)(O0.d, Q.d, K.d, V.d, masked ? KP.d : nullptr, nullptr, ad0);
            CHECK_PARITY(O0.get(), out0, 1e-5f, 1e-4f);
        }
        // the biases' gradients: scratch added to q, k, v's gradients, column sums to the biases'
        // (k's gradient not wanted: null)
        const int64_t rows = c.B * c.L;
        std::vector<float> d0 = g0, d2 = g0, e0 = db0, e1 = db0, e2 = db0;
        const std::vector<float> s0 = randv(n, 70), s1 = randv(n, 71), s2 = randv(n, 72);
        attention_bias_grads_cpu({{d0.data(), nullptr, d2.data()}, {e0.data(), e1.data(), e2.data()}, {s0.data(), s1.data(), s2.data()}},
                                 rows, H);
        Buf<Bk> D0(g0), D2(g0), E0(db0), E1(db0), E2(db0), S0(s0), S1(s1), S2(s2);
        VSD_RUN(Bk{}, attention_bias_grads)({{D0.d, nullptr, D2.d}, {E0.d, E1.d, E2.d}, {S0.d, S1.d, S2.d}}, rows, H);
        CHECK_PARITY(D0.get(), d0, 0.0f, 0.0f);
        CHECK_PARITY(D2.get(), d2, 0.0f, 0.0f);
        CHECK_PARITY(E0.get(), e0, 1e-5f, 1e-4f);
        CHECK_PARITY(E1.get(), e1, 1e-5f, 1e-4f);
        CHECK_PARITY(E2.get(), e2, 1e-5f, 1e-4f);
    }
}
KERNEL_PARITY(parity_attention, "fused attention forward and backward (adding or writing), biases, key masks, a query with no visible key, dropout")

// cuDNN's key lengths: the prefix test, on every device against the CPU reference
template <class Bk>
void parity_key_prefix_lengths() {
    // rows: a prefix of 3; all visible; none visible; a gap; a key after the zeros; 300 wide, 299 kept
    const int64_t L = 300;
    std::vector<float> keep(6 * L, 0.0f);
    for (int64_t t = 0; t < 3; t++) keep[0 * L + t] = 1;
    for (int64_t t = 0; t < L; t++) keep[1 * L + t] = 1;
    for (int64_t t : {0, 2}) keep[3 * L + t] = 1;
    for (int64_t t : {0, 1, 250}) keep[4 * L + t] = 1;
    for (int64_t t = 0; t < L - 1; t++) keep[5 * L + t] = 1;
    std::vector<int32_t> want(6);
    key_prefix_lengths_cpu(want.data(), keep.data(), 6, L);
    CHECK(want == std::vector<int32_t>{3, 300, -1, -1, -1, 299});
    Buf<Bk> k(keep);
    Buf<Bk, int32_t> len(6);
    VSD_RUN(Bk{}, key_prefix_lengths)(len.d, k.d, 6, L);
    CHECK(len.get() == want);
}
KERNEL_PARITY(parity_key_prefix_lengths, "cuDNN's key lengths: prefixes, gaps, empty rows")

TEST_CASE("op key_prefix_lengths: the lengths, or nothing when one row is not a prefix") {
    CHECK(key_prefix_lengths(T({2, 3}, {1, 1, 0, 1, 0, 0})) == std::vector<int>{2, 1});
    CHECK(key_prefix_lengths(T({2, 3}, {1, 1, 0, 0, 1, 0})).empty());
}
