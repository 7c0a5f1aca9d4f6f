// The attention slice: fused multi-head attention for inference (kernels/attention.*, src/ops/attention.cpp).
#include "../../kernels/attention.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(attention, "fused attention, key masks, a query row with no visible key (forward only)", {0}) {
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
                                .forward_only());
        }
    cases.push_back(OpCase("no mask", {rnd({1, 4, 8}, 1), rnd({1, 4, 8}, 2), rnd({1, 4, 8}, 3)},
                           [](Inputs x) { return attention(x[0], x[1], x[2], Tensor(), 2); }).forward_only());
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_attention() {
    struct Case { int64_t B, L, A, d; };
    for (Case c : {Case{1, 1, 1, 1}, Case{2, 5, 3, 4}, Case{2, 31, 2, 33}, Case{1, 33, 4, 32}, Case{3, 40, 12, 64}}) {
        CAPTURE(c.B); CAPTURE(c.L); CAPTURE(c.A); CAPTURE(c.d);
        const int64_t H = c.A * c.d, n = c.B * c.L * H;
        std::vector<float> q = randv(n, 60 + c.L), k = randv(n, 61 + c.L), v = randv(n, 62 + c.L), keep(c.B * c.L, 1.0f);
        for (int64_t t = c.L / 2 + 1; t < c.L; t++) keep[t] = 0.0f;                   // batch 0: padding at the end
        if (c.B > 2) std::fill(keep.begin() + 2 * c.L, keep.begin() + 3 * c.L, 0.0f);  // batch 2: nothing visible
        for (bool masked : {false, true}) {
            std::vector<float> out(n);
            attention_forward_cpu(out.data(), q.data(), k.data(), v.data(), masked ? keep.data() : nullptr, c.B, c.L, c.A,
                                  c.d, 0.125f);
            Buf<Bk> Q(q), K(k), V(v), KP(keep), O(n);
            VSD_RUN(Bk{}, attention_forward)(O.d, Q.d, K.d, V.d, masked ? KP.d : nullptr, c.B, c.L, c.A, c.d, 0.125f);
            CHECK_PARITY(O.get(), out, 1e-5f, 1e-4f);
        }
    }
}
KERNEL_PARITY(parity_attention, "fused attention (warp per query row), key masks, a query with no visible key")

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
