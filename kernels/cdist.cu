/*
Pairwise Euclidean distances on the GPU.              CPU reference: kernels/cdist.cpp

What it computes
    out[i, j] = ||a_i - b_j||; the backward gives each thread one gradient element, which sums
    over the other side, so it needs no atomics

Version
    1  one thread per output (forward) or per gradient element (backward), a grid-stride loop.
*/
#include "common.cuh"
#include "cdist.h"

namespace vsd {
namespace VSD_KNS {

__global__ void cdist_kernel(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
    VSD_GRID_STRIDE(t, N * M) {  // (reference: cdist_forward_cpu)
        const int64_t i = t / M, j = t % M;
        float s = 0.0f;
        for (int64_t d = 0; d < D; d++) {
            const float diff = a[i * D + d] - b[j * D + d];
            s += diff * diff;
        }
        out[t] = sqrtf(s);
    }
}

// d||a_i - b_j|| / da_i = (a_i - b_j) / ||a_i - b_j||, 0 at distance 0. Each thread owns one gradient
// element and sums over the other side, so there are no atomics: da[i, k] sums over j, db[j, k] over i.
__global__ void cdist_backward_kernel(float* da, float* db, const float* dout, const float* out, const float* a,
                                      const float* b, int64_t N, int64_t M, int64_t D) {
    const int64_t na = da ? N * D : 0, nb = db ? M * D : 0;
    VSD_GRID_STRIDE(t, na + nb) {  // (reference: cdist_backward_cpu)
        if (t < na) {
            const int64_t i = t / D, k = t % D;
            float s = 0.0f;
            for (int64_t j = 0; j < M; j++)
                if (out[i * M + j] > 0.0f) s += dout[i * M + j] * (a[i * D + k] - b[j * D + k]) / out[i * M + j];
            da[t] += s;
        } else {
            const int64_t u = t - na, j = u / D, k = u % D;
            float s = 0.0f;
            for (int64_t i = 0; i < N; i++)
                if (out[i * M + j] > 0.0f) s += dout[i * M + j] * (b[j * D + k] - a[i * D + k]) / out[i * M + j];
            db[u] += s;
        }
    }
}

void cdist(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
    if (N * M > 0) VSD_LAUNCH(cdist_kernel, grid1d(N * M), 256, 0, out, a, b, N, M, D);
}

void cdist_backward(float* da, float* db, const float* dout, const float* out, const float* a, const float* b, int64_t N,
                    int64_t M, int64_t D) {
    const int64_t n = (da ? N * D : 0) + (db ? M * D : 0);
    if (n) VSD_LAUNCH(cdist_backward_kernel, grid1d(n), 256, 0, da, db, dout, out, a, b, N, M, D);
}

}  // namespace VSD_KNS
}  // namespace vsd
