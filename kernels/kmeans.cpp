// kmeans.cpp — assignment and update steps of k-means.
//
// Napkin math for the VSD prototypes (Flickr30K: N = 29,000 images, K = 896, D = 1024): the
// assignment GEMM is 2 N K D = 53 GFLOP, ~0.15 s at 400 GFLOP/s; the update is one pass over X.
#include "kmeans.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "gemm.h"

namespace vsd {

void kmeans_assign_cpu(int64_t* assign, float* dist2, const float* X, const float* xnorm2, const float* C, int64_t N,
                       int64_t K, int64_t D) {
    std::vector<float> cn(K);
    for (int64_t k = 0; k < K; k++) {
        double s = 0;
        for (int64_t d = 0; d < D; d++) s += (double)C[k * D + d] * C[k * D + d];
        cn[k] = (float)s;
    }
    const int64_t chunk = 4096;  // rows per GEMM, so the N x K dot products never need N*K memory
    std::vector<float> dots(std::min(N, chunk) * K);
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        const int64_t rows = std::min(chunk, N - n0);
        gemm_cpu(false, true, rows, K, D, 1.0f, X + n0 * D, D, C, D, 0.0f, dots.data(), K);
#pragma omp parallel for if (rows * K > 65536)
        for (int64_t r = 0; r < rows; r++) {
            float best = std::numeric_limits<float>::infinity();
            int64_t arg = 0;
            for (int64_t k = 0; k < K; k++) {
                float d2 = xnorm2[n0 + r] - 2.0f * dots[r * K + k] + cn[k];
                if (d2 < best) { best = d2; arg = k; }  // ties: the lowest centroid index
            }
            assign[n0 + r] = arg;
            dist2[n0 + r] = std::max(best, 0.0f);  // rounding can make it slightly negative
        }
    }
}

void kmeans_update_cpu(float* C, int64_t* counts, const float* X, const int64_t* assign, int64_t N, int64_t K, int64_t D) {
    std::vector<double> sum(K * D, 0.0);
    std::fill(counts, counts + K, 0);
    for (int64_t n = 0; n < N; n++) {  // serial on purpose: the same order every run, so the same sums
        const int64_t k = assign[n];
        counts[k]++;
        for (int64_t d = 0; d < D; d++) sum[k * D + d] += X[n * D + d];
    }
    for (int64_t k = 0; k < K; k++)
        if (counts[k] > 0)
            for (int64_t d = 0; d < D; d++) C[k * D + d] = (float)(sum[k * D + d] / counts[k]);
}

}  // namespace vsd
