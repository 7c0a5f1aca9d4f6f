// kmeans.h — the two steps of Lloyd's k-means on the CPU (N points, K centroids, D dims).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// assign[n] = argmin_k ||x_n - c_k||^2, dist2[n] = that minimum. Uses
// ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2 with the N x K dot products from one GEMM.
// xnorm2 (N) holds ||x_n||^2 (precomputed once; points do not change).
void kmeans_assign_cpu(int64_t* assign, float* dist2, const float* X, const float* xnorm2, const float* C, int64_t N,
                       int64_t K, int64_t D);

// c_k = mean of the points assigned to k (double accumulation); counts[k] = their number.
// Centroids with no point are left unchanged (the caller re-seeds them).
void kmeans_update_cpu(float* C, int64_t* counts, const float* X, const int64_t* assign, int64_t N, int64_t K, int64_t D);

// the CUDA versions
VSD_LAUNCHERS(
    // dots (N, K), cnorm2 (K,), sums (K, D), counts (K,) are scratch buffers
    void kmeans_assign(int64_t* assign, float* dist2, const float* X, const float* xnorm2, const float* C, float* dots,
                       float* cnorm2, int64_t N, int64_t K, int64_t D);
    void kmeans_update(float* C, float* counts, float* sums, const float* X, const int64_t* assign, int64_t N,
                       int64_t K, int64_t D);
    // out[r] = ||x_r||^2 over rows of length D
    void sqnorm_rows(float* out, const float* x, int64_t rows, int64_t D);
)

}  // namespace vsd
