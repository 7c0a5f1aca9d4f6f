// pca.cpp — principal components by subspace iteration and Jacobi rotations (pca.h).
#include "pca.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "../core/check.h"
#include "../core/progress.h"
#include "../core/rng.h"
#include "kmeans.h"

namespace vsd {

void symmetric_eigen(std::vector<double> A, int64_t n, std::vector<double>& values, std::vector<double>& vectors) {
    std::vector<double> V(n * n, 0.0);  // accumulated rotations; column j = eigenvector j
    for (int64_t i = 0; i < n; i++) V[i * n + i] = 1.0;
    auto off = [&] {
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++)
                if (i != j) s += A[i * n + j] * A[i * n + j];
        return s;
    };
    double total = 0;
    for (double a : A) total += a * a;
    for (int sweep = 0; sweep < 100 && off() > 1e-24 * std::max(total, 1e-300); sweep++) {
        for (int64_t p = 0; p < n - 1; p++)
            for (int64_t q = p + 1; q < n; q++) {
                const double apq = A[p * n + q];
                if (std::fabs(apq) < 1e-300) continue;
                // the rotation in the (p, q) plane that zeroes A[p][q]
                const double theta = (A[q * n + q] - A[p * n + p]) / (2.0 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
                for (int64_t k = 0; k < n; k++) {  // A <- A J (columns p, q)
                    const double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int64_t k = 0; k < n; k++) {  // A <- J^T A (rows p, q)
                    const double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                for (int64_t k = 0; k < n; k++) {
                    const double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - s * vkq;
                    V[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return A[a * n + a] > A[b * n + b]; });
    values.resize(n);
    vectors.resize(n * n);
    for (int64_t r = 0; r < n; r++) {
        values[r] = A[order[r] * n + order[r]];
        for (int64_t k = 0; k < n; k++) vectors[r * n + k] = V[k * n + order[r]];
    }
}

// modified Gram-Schmidt on the k columns of Q (D, k), in place
static void orthonormalise(std::vector<double>& Q, int64_t D, int64_t k) {
    for (int64_t j = 0; j < k; j++) {
        for (int64_t i = 0; i < j; i++) {
            double d = 0;
            for (int64_t r = 0; r < D; r++) d += Q[r * k + i] * Q[r * k + j];
            for (int64_t r = 0; r < D; r++) Q[r * k + j] -= d * Q[r * k + i];
        }
        double norm = 0;
        for (int64_t r = 0; r < D; r++) norm += Q[r * k + j] * Q[r * k + j];
        norm = std::sqrt(norm);
        ENSURE(norm > 1e-300, "pca: the data span fewer than %lld dimensions", (long long)k);
        for (int64_t r = 0; r < D; r++) Q[r * k + j] /= norm;
    }
}

Pca pca_fit(const float* X, int64_t N, int64_t D, int64_t k, uint64_t seed, bool progress) {
    ENSURE_HINT(N >= 2 && D >= 1 && k >= 1 && k <= D, "PCA needs at least two rows and 1 <= k <= D",
                "pca: %lld rows of %lld, %lld components", (long long)N, (long long)D, (long long)k);
    Pca p;
    p.D = D;
    p.k = k;
    p.mean.assign(D, 0.0);
    for (int64_t i = 0; i < N; i++)
        for (int64_t d = 0; d < D; d++) p.mean[d] += X[i * D + d];
    for (double& m : p.mean) m /= (double)N;
    // the covariance, in double (each thread a band of its rows)
    std::vector<double> C(D * D, 0.0);
#pragma omp parallel for schedule(dynamic)
    for (int64_t a = 0; a < D; a++)
        for (int64_t i = 0; i < N; i++) {
            const double xa = X[i * D + a] - p.mean[a];
            if (xa == 0.0) continue;
            for (int64_t b = 0; b <= a; b++) C[a * D + b] += xa * (X[i * D + b] - p.mean[b]);
        }
    for (int64_t a = 0; a < D; a++)
        for (int64_t b = 0; b <= a; b++) C[b * D + a] = C[a * D + b] = C[a * D + b] / (double)(N - 1);
    auto fix_sign = [&](double* v) {
        int64_t big = 0;
        for (int64_t r = 1; r < D; r++)
            if (std::fabs(v[r]) > std::fabs(v[big])) big = r;
        if (v[big] < 0)
            for (int64_t r = 0; r < D; r++) v[r] = -v[r];
    };
    if (4 * k > D) {  // most of the spectrum: diagonalise C itself
        std::vector<double> vals, vecs;
        symmetric_eigen(C, D, vals, vecs);
        p.variance.assign(vals.begin(), vals.begin() + k);
        p.components.assign(vecs.begin(), vecs.begin() + k * D);
        for (int64_t j = 0; j < k; j++) fix_sign(&p.components[j * D]);
        return p;
    }
    // a few leading components: subspace iteration, Q <- orth(C Q)
    Rng rng(seed);
    std::vector<double> Q(D * k), Z(D * k);
    for (double& q : Q) q = rng.normal();
    orthonormalise(Q, D, k);
    Progress bar("pca", 100);
    for (int it = 0; it < 100; it++) {
#pragma omp parallel for
        for (int64_t r = 0; r < D; r++)
            for (int64_t j = 0; j < k; j++) {
                double s = 0;
                for (int64_t c = 0; c < D; c++) s += C[r * D + c] * Q[c * k + j];
                Z[r * k + j] = s;
            }
        orthonormalise(Z, D, k);
        double moved = 0;  // 1 - |cos| between the old and new columns, the worst of them
        for (int64_t j = 0; j < k; j++) {
            double d = 0;
            for (int64_t r = 0; r < D; r++) d += Z[r * k + j] * Q[r * k + j];
            moved = std::max(moved, 1.0 - std::fabs(d));
        }
        Q.swap(Z);
        if (progress) bar.update(it + 1);
        if (moved < 1e-12) break;
    }
    if (progress) bar.finish();
    // Rayleigh-Ritz: H = Q^T C Q (k, k), diagonalised; components = (Q W)^T
    std::vector<double> CQ(D * k, 0.0), H(k * k, 0.0);
    for (int64_t r = 0; r < D; r++)
        for (int64_t j = 0; j < k; j++) {
            double s = 0;
            for (int64_t c = 0; c < D; c++) s += C[r * D + c] * Q[c * k + j];
            CQ[r * k + j] = s;
        }
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            double s = 0;
            for (int64_t r = 0; r < D; r++) s += Q[r * k + a] * CQ[r * k + b];
            H[a * k + b] = s;
        }
    for (int64_t a = 0; a < k; a++)  // exactly symmetric
        for (int64_t b = 0; b < a; b++) H[a * k + b] = H[b * k + a] = 0.5 * (H[a * k + b] + H[b * k + a]);
    std::vector<double> W;
    symmetric_eigen(H, k, p.variance, W);
    p.components.assign(k * D, 0.0);
    for (int64_t j = 0; j < k; j++) {
        double* v = &p.components[j * D];
        for (int64_t r = 0; r < D; r++) {
            double s = 0;
            for (int64_t a = 0; a < k; a++) s += Q[r * k + a] * W[j * k + a];
            v[r] = s;
        }
        fix_sign(v);
    }
    return p;
}

std::vector<float> clip_prototypes(const float* X, int64_t N, int64_t D, int64_t E, int64_t K, uint64_t seed, bool verbose) {
    const Pca p = pca_fit(X, N, D, E, 0, verbose);
    std::vector<float> y = p.project(X, N);
    for (int64_t i = 0; i < N; i++) {  // unit rows, as the fusion sees them
        double n = 0;
        for (int64_t j = 0; j < E; j++) n += (double)y[i * E + j] * y[i * E + j];
        const double s = 1.0 / std::max(std::sqrt(n), 1e-12);
        for (int64_t j = 0; j < E; j++) y[i * E + j] = (float)(y[i * E + j] * s);
    }
    KMeansOptions km;
    km.K = K;
    km.seed = seed;
    km.verbose = verbose;
    return kmeans(y.data(), N, E, km).centroids;
}

std::string clip_prototype_name(const std::string& dataset, int64_t K, int64_t E) {
    return dataset + "_minicpm_kmeans_centroids_" + std::to_string(K) + "_clip" + std::to_string(E) + ".npy";
}

std::vector<float> Pca::project(const float* x, int64_t n) const {
    std::vector<float> y(n * k);
#pragma omp parallel for if (n > 64)
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++) s += components[j * D + d] * (x[i * D + d] - mean[d]);
            y[i * k + j] = (float)s;
        }
    return y;
}

}  // namespace vsd
