// The relation slice: HREM's region-word statistics (kernels/relation.*, src/ops/relation.cpp).
#include "../../kernels/relation.h"
#include "kernel_parity.h"
#include "op_test.h"

// unit rows, as HREM feeds it (its fragments are l2-normalised first)
static Tensor unit(const Shape& s, uint64_t seed) { return l2norm(rnd(s, seed)); }

OP_TEST(relation, "HREM's region-word statistics: means and top-k both ways (forward only)", {0}) {
    std::vector<OpCase> cases;
    auto run = [](int K) {
        return [K](Inputs x) {
            RegionWordStats s = region_word_stats(x[0], x[1], x[2], K, 0.1f);
            return std::vector<Tensor>{s.mean_t2i, s.topk_t2i, s.mean_i2t, s.topk_i2t};
        };
    };
    cases.push_back(OpCase("3 captions x 4 images, L 7, R 5, E 33, K 3", {unit({3, 7, 33}, 1), unit({4, 5, 33}, 2),
                                                                          Tensor::from_i64({3}, {7, 2, 5})}, run(3))
                        .forward_only());
    cases.push_back(OpCase("K 10 above the widths (zero-completed lists)", {unit({2, 4, 8}, 3), unit({2, 6, 8}, 4),
                                                                            Tensor::from_i64({2}, {4, 1})}, run(10))
                        .forward_only());
    cases.push_back(OpCase("36 regions, 130-wide features", {unit({2, 12, 130}, 5), unit({3, 36, 130}, 6),
                                                             Tensor::from_i32({2}, {12, 9})}, run(10))
                        .forward_only()
                        .tol(1e-5, 1e-4));
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_relation() {
    struct Case { int64_t Bt, Bi, L, R, E; int K; std::vector<int64_t> len; };
    const std::vector<Case> cases = {
        {1, 1, 1, 1, 1, 1, {1}},                            // the smallest
        {3, 2, 5, 4, 7, 6, {5, 2, 1}},                       // K above W and R: zero-filled top-k
        {4, 3, 14, 12, 33, 10, {14, 7, 10, 3}},              // E not a multiple of the 32-feature chunk
        {5, 4, 12, 36, 64, 10, {12, 1, 11, 9, 4}},           // 36 regions: tiles span several passes
        {2, 3, 40, 33, 31, 16, {40, 17}},                    // W*R above the block size many times over
    };
    for (const Case& c : cases) {
        CAPTURE(c.Bt); CAPTURE(c.Bi); CAPTURE(c.L); CAPTURE(c.R); CAPTURE(c.E); CAPTURE(c.K);
        // unit rows as the relation module feeds it; one zero (padded) region
        std::vector<float> psi = randv(c.Bt * c.L * c.E, 11 + c.L), phi = randv(c.Bi * c.R * c.E, 12 + c.R);
        if (c.R > 2) std::fill(phi.begin() + c.E, phi.begin() + 2 * c.E, 0.0f);
        const int64_t nt = c.Bt * c.Bi, k = c.K;
        std::vector<float> m1(nt), t1(nt * k), m2(nt), t2(nt * k);
        region_word_stats_cpu(m1.data(), t1.data(), m2.data(), t2.data(), psi.data(), phi.data(), c.len.data(), c.Bt, c.L,
                              c.Bi, c.R, c.E, c.K, 0.1f, 1e-8f);
        Buf<Bk> P(psi), Q(phi), M1(nt), T1(nt * k), M2(nt), T2(nt * k);
        Buf<Bk, int64_t> LEN(c.len);
        VSD_RUN(Bk{}, region_word_stats)(M1.d, T1.d, M2.d, T2.d, P.d, Q.d, LEN.d, c.Bt, c.L, c.Bi, c.R, c.E, c.K, 0.1f, 1e-8f);
        CHECK_PARITY(M1.get(), m1, 1e-5f, 1e-4f);
        CHECK_PARITY(T1.get(), t1, 1e-5f, 1e-4f);
        CHECK_PARITY(M2.get(), m2, 1e-5f, 1e-4f);
        CHECK_PARITY(T2.get(), t2, 1e-5f, 1e-4f);
    }
}
KERNEL_PARITY(parity_relation, "HREM region-word statistics (fused, shared-memory tiles)")
