// PCA (src/train/pca.*): data whose covariance is known exactly, both algorithms; Jacobi by hand.
#include <cmath>

#include "../src/train/pca.h"
#include "helpers.h"

// Rows +-s_i r_i (each principal direction r_i of an orthonormal basis, both signs): the mean is 0
// and the covariance is sum_i 2 s_i^2 r_i r_i^T / (N - 1) exactly, so the components are the r_i by
// falling s_i and the variances 2 s_i^2 / (N - 1).
static void check_known(int64_t D, int64_t k) {
    Rng rng(5);
    std::vector<double> R(D * D);  // a random orthonormal basis (Gram-Schmidt of normals), rows r_i
    for (double& x : R) x = rng.normal();
    for (int64_t i = 0; i < D; i++) {
        for (int64_t j = 0; j < i; j++) {
            double d = 0;
            for (int64_t c = 0; c < D; c++) d += R[i * D + c] * R[j * D + c];
            for (int64_t c = 0; c < D; c++) R[i * D + c] -= d * R[j * D + c];
        }
        double n = 0;
        for (int64_t c = 0; c < D; c++) n += R[i * D + c] * R[i * D + c];
        for (int64_t c = 0; c < D; c++) R[i * D + c] /= std::sqrt(n);
    }
    std::vector<double> s(D);
    for (int64_t i = 0; i < D; i++) s[i] = 10.0 / (1.0 + i);  // distinct, falling
    std::vector<float> X;
    for (int64_t i = D - 1; i >= 0; i--)  // rows in an order unrelated to the answer
        for (double sign : {1.0, -1.0})
            for (int64_t c = 0; c < D; c++) X.push_back((float)(sign * s[i] * R[i * D + c]));
    const int64_t N = 2 * D;
    const Pca p = pca_fit(X.data(), N, D, k, 1);
    REQUIRE(p.components.size() == (size_t)(k * D));
    for (int64_t j = 0; j < k; j++) {
        double dot = 0;
        for (int64_t c = 0; c < D; c++) dot += p.components[j * D + c] * R[j * D + c];
        CHECK(std::fabs(std::fabs(dot) - 1.0) < 1e-5);
        CHECK(p.variance[j] == doctest::Approx(2 * s[j] * s[j] / (N - 1)).epsilon(1e-5));
    }
    for (double m : p.mean) CHECK(std::fabs(m) < 1e-6);
    // the projection of a row +s_j r_j is s_j along component j (up to the component's sign)
    const std::vector<float> y = p.project(&X[(size_t)(2 * (D - 1)) * D], 1);  // the row +s_0 r_0
    CHECK(std::fabs(std::fabs(y[0]) - s[0]) < 1e-4);
}

TEST_CASE("pca: known components, a few by subspace iteration and most by Jacobi") {
    check_known(40, 5);   // k <= D / 4: subspace iteration
    check_known(24, 20);  // k > D / 4: the whole matrix
}

TEST_CASE("pca: Jacobi on a 2 x 2 by hand") {
    // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/sqrt 2 and (1, -1)/sqrt 2
    std::vector<double> vals, vecs;
    symmetric_eigen({2, 1, 1, 2}, 2, vals, vecs);
    CHECK(vals[0] == doctest::Approx(3.0));
    CHECK(vals[1] == doctest::Approx(1.0));
    CHECK(std::fabs(vecs[0]) == doctest::Approx(std::sqrt(0.5)));
    CHECK(vecs[0] * vecs[1] > 0);  // (1, 1) direction
    CHECK(vecs[2] * vecs[3] < 0);  // (1, -1)
}
