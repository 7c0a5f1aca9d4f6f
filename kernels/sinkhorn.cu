/*
Sinkhorn-Knopp codes on the GPU.                       CPU reference: kernels/sinkhorn.cpp

What it computes (kernels/sinkhorn.h)
    Q = exp(S^T / eps) / total, then `iterations` rounds of: rows to mass 1/K, columns to mass 1/B;
    q = B Q^T. In double, as the reference's host code.

Version
    1  one block of 256 threads for the whole (K x B) matrix. The total is a block reduction in
       shared memory; each normalisation pass gives a thread whole rows (then whole columns) and
       sums them in the CPU's order. The passes depend on each other, so __syncthreads separates
       them. K x B is 896 x 128 at most: one block is enough, and it saves one launch per pass.
*/
#include "common.cuh"
#include "sinkhorn.h"

namespace vsd {
namespace VSD_KNS {

constexpr int kSinkhornThreads = 256;

__global__ void sinkhorn_kernel(float* q, double* Q, const float* S, int64_t B, int64_t K, double eps, int iterations) {
    VSD_DYNAMIC_SHARED(double, part);  // kSinkhornThreads partial totals (fresh each launch)
    const int t = threadIdx.x;
    // 1. Q = exp(S^T / eps) and its total (each thread's strided part, then a tree over the block)
    double mine = 0;
    for (int64_t i = t; i < K * B; i += kSinkhornThreads) {
        const int64_t k = i / B, b = i % B;
        Q[i] = exp((double)S[b * K + k] / eps);
        mine += Q[i];
    }
    part[t] = mine;
    __syncthreads();
    for (int half = kSinkhornThreads / 2; half > 0; half /= 2) {
        if (t < half) part[t] += part[t + half];
        __syncthreads();
    }
    const double total = part[0];
    for (int64_t i = t; i < K * B; i += kSinkhornThreads) Q[i] /= total;
    __syncthreads();
    // 2. the alternating normalisations
    for (int it = 0; it < iterations; it++) {
        for (int64_t k = t; k < K; k += kSinkhornThreads) {  // rows: mass 1/K each
            double r = 0;
            for (int64_t b = 0; b < B; b++) r += Q[k * B + b];
            for (int64_t b = 0; b < B; b++) Q[k * B + b] /= r * K;
        }
        __syncthreads();
        for (int64_t b = t; b < B; b += kSinkhornThreads) {  // columns: mass 1/B each
            double c = 0;
            for (int64_t k = 0; k < K; k++) c += Q[k * B + b];
            for (int64_t k = 0; k < K; k++) Q[k * B + b] /= c * B;
        }
        __syncthreads();
    }
    // 3. the codes, one row per sample
    for (int64_t i = t; i < B * K; i += kSinkhornThreads) {
        const int64_t b = i / K, k = i % K;
        q[i] = (float)(Q[k * B + b] * B);
    }
}

void sinkhorn(float* q, double* Q, const float* S, int64_t B, int64_t K, double eps, int iterations) {
    if (B * K > 0) VSD_LAUNCH(sinkhorn_kernel, 1, kSinkhornThreads, kSinkhornThreads * sizeof(double), q, Q, S, B, K, eps, iterations);
}

}  // namespace VSD_KNS
}  // namespace vsd
