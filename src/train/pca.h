// pca.h — principal component analysis of a set of rows, for CLIP+VSD's reduction of the BGE
// description embeddings (1024-d) to CLIP's joint space (512-d): our reconstruction of the
// unreleased code, which the release's *_pca512.npy centroid file suggests (SPEC §1.4, §2.8).
//
//   mean       the rows' average                                       (D)
//   C          (X - mean)^T (X - mean) / (N - 1)                        (D, D)
//   components the k eigenvectors of C of largest eigenvalue, as rows  (k, D), orthonormal
//   variance   their eigenvalues, falling                              (k)
// Computed in double: for a few components (k <= D/4) by subspace iteration (Q <- orth(C Q), from a
// seeded random start, until the subspace stops moving, at most 100 times) and a Rayleigh–Ritz
// step (Q^T C Q diagonalised); for more, C itself is diagonalised (cyclic Jacobi rotations). Each component's sign is fixed: its entry of largest magnitude is positive.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vsd {

struct Pca {
    int64_t D = 0, k = 0;
    std::vector<double> mean, components, variance;
    // y = components (x - mean), for n rows of x (n, D) -> y (n, k)
    std::vector<float> project(const float* x, int64_t n) const;
};

Pca pca_fit(const float* X, int64_t N, int64_t D, int64_t k, uint64_t seed = 0, bool progress = false);

// CLIP+VSD's prototypes (our reconstruction): the training descriptions X (N, D) through the PCA
// to E dimensions (pca_fit with seed 0, the one the trainer fits), each reduced row L2-normalised
// as the fusion uses it, then k-means (K, seed `seed`). Returns the (K, E) centroids. The trainer,
// `make prototypes MODEL=clip` and the demo generator all call this one function.
std::vector<float> clip_prototypes(const float* X, int64_t N, int64_t D, int64_t E, int64_t K, uint64_t seed, bool verbose);
// Their file: <dataset>_minicpm_kmeans_centroids_<K>_clip<E>.npy
std::string clip_prototype_name(const std::string& dataset, int64_t K, int64_t E);

// Eigen-decomposition of a symmetric n x n matrix A (row-major) by cyclic Jacobi rotations:
// eigenvalues falling, eigenvectors as the rows of `vectors` (n, n).
void symmetric_eigen(std::vector<double> A, int64_t n, std::vector<double>& values, std::vector<double>& vectors);

}  // namespace vsd
