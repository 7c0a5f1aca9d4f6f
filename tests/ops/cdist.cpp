// The cdist slice: pairwise Euclidean distances (kernels/cdist.*, src/ops/cdist.cpp).
#include "../../kernels/cdist.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(cdist, "pairwise distances; a zero distance has a zero gradient", {0}) {
    return {
        OpCase("4 x 3 against 5 x 3", {rnd({4, 3}, 23), rnd({5, 3}, 24)}, [](Inputs x) { return cdist(x[0], x[1]); }),
        OpCase("a set against itself (zero diagonal)", {rnd({4, 3}, 25)}, [](Inputs x) { return cdist(x[0], x[0]); }).no_gradcheck(),
        OpCase("D 1", {rnd({3, 1}, 26), rnd({2, 1}, 27)}, [](Inputs x) { return cdist(x[0], x[1]); }),
        OpCase("17 x 33 against 9 x 33", {rnd({17, 33}, 28), rnd({9, 33}, 29)}, [](Inputs x) { return cdist(x[0], x[1]); }).no_gradcheck(),
    };
}

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

TEST_CASE("cdist: values; gradient finite at zero distance; gradcheck") {
    Tensor a = T({2, 2}, {0, 0, 1, 1}), b = T({3, 2}, {3, 4, 0, 0, 1, 0});
    std::vector<float> d = cdist(a, b).to_vector();
    CHECK(d[0] == 5.0f);
    CHECK(d[1] == 0.0f);
    CHECK(d[2] == 1.0f);
    CHECK(d[3] == doctest::Approx(std::sqrt(13.0)));
    CHECK(d[5] == 1.0f);
    CHECK_THROWS_WITH(cdist(a, T({1, 3}, {1, 2, 3})), doctest::Contains("expects a (N, D) and b (M, D)"));
    a.requires_grad();
    backward(sum(cdist(a, b)));
    for (float g : a.grad_tensor().to_vector()) CHECK(std::isfinite(g));
    CHECK_GRAD([](std::vector<Tensor>& in) { return cdist(in[0], in[1]); }, {rnd({3, 4}, 1), rnd({2, 4}, 2)});
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_cdist() {
    // cdist forward, and backward accumulating into 0.5 (a zero distance contributes nothing)
    {
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
KERNEL_PARITY(parity_cdist, "cdist forward and backward, a zero distance")
