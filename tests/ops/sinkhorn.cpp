// The sinkhorn slice: VSD's Sinkhorn-Knopp codes (kernels/sinkhorn.*, src/ops/sinkhorn.cpp).
// Against the reference's torch code: tests/test_vsd.cpp (fixtures); here every device against
// the CPU, and the marginals by hand.
#include "op_test.h"

OP_TEST(sinkhorn_codes, "codes in double, 3 rounds; sizes around the block of 256", {0}) {
    std::vector<OpCase> cases;
    for (auto [B, K] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 7}, {33, 300}, {257, 3}}) {
        const std::string l = std::to_string(B) + " x " + std::to_string(K);
        cases.push_back(OpCase(l, {rnd({B, K}, B + K)}, [](Inputs x) { return sinkhorn_codes(x[0], 0.05f, 3); })
                            .forward_only().tol(1e-6, 1e-5));
    }
    // with no iteration the codes are exp(S / eps) / total itself: the total (a block reduction,
    // here over every thread's share) shows (rounds of normalisation would cancel it)
    for (auto [B, K] : std::vector<std::pair<int64_t, int64_t>>{{4, 6}, {300, 7}})
        cases.push_back(OpCase("no iteration, " + std::to_string(B) + " x " + std::to_string(K), {rnd({B, K}, 9)},
                               [](Inputs x) { return sinkhorn_codes(x[0], 0.5f, 0); })
                            .forward_only().tol(1e-9, 1e-5));
    cases.push_back(OpCase("no sample", {rnd({0, 6}, 9)}, [](Inputs x) { return sinkhorn_codes(x[0], 0.05f, 3); }).forward_only());
    return cases;
}

TEST_CASE("op sinkhorn_codes: the marginals, and equal scores give uniform codes") {
    // after a column pass each sample's codes sum to 1; many rounds make every prototype's share B/K
    const int64_t B = 6, K = 4;
    std::vector<float> q = sinkhorn_codes(rnd({B, K}, 3), 0.5f, 200).to_vector();
    for (int64_t b = 0; b < B; b++) {
        double row = 0;
        for (int64_t k = 0; k < K; k++) row += q[b * K + k];
        CHECK(row == doctest::Approx(1.0).epsilon(1e-6));
    }
    for (int64_t k = 0; k < K; k++) {
        double col = 0;
        for (int64_t b = 0; b < B; b++) col += q[b * K + k];
        CHECK(col == doctest::Approx((double)B / K).epsilon(1e-5));
    }
    // equal scores: every code is 1/K
    for (float v : sinkhorn_codes(Tensor::full({3, 4}, 0.7f), 0.05f, 3).to_vector()) CHECK(v == doctest::Approx(0.25));
}
