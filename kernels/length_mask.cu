/*
The padding mask of a batch on the GPU.               CPU reference: kernels/length_mask.cpp

What it computes
    m[b, k] = 1 if k < len[b] else 0: built where the model lives, so no mask crosses from the host

    w[b, n] = 1/k[b] for n < k[b], where k[b] = min(cap, max(len[b], 1)), optionally also the
    running minimum over b' <= b (HREM's MaxK quirk)

Version
    1  the grid-stride loop of common.cuh, one thread per output element. For the running minimum
       each thread rescans the samples before its own: O(B) work per element, and B is a batch.
*/
#include "common.cuh"
#include "length_mask.h"

namespace vsd {
namespace VSD_KNS {

__global__ void length_mask_kernel(float* m, const int64_t* len, int64_t B, int64_t N) {
    VSD_GRID_STRIDE(i, B * N) m[i] = (i % N) < len[i / N] ? 1.0f : 0.0f;
}

void length_mask(float* m, const int64_t* len, int64_t B, int64_t N) {
    if (B * N > 0) VSD_LAUNCH(length_mask_kernel, grid1d(B * N), 256, 0, m, len, B, N);
}

__global__ void causal_mask_kernel(float* m, int64_t L) {
    VSD_GRID_STRIDE(i, L * L) m[i] = (i % L) <= (i / L) ? 1.0f : 0.0f;  // key j = i % L, query i / L
}

void causal_mask(float* m, int64_t L) {
    if (L > 0) VSD_LAUNCH(causal_mask_kernel, grid1d(L * L), 256, 0, m, L);
}

__global__ void length_weights_kernel(float* w, const int64_t* len, int64_t B, int64_t N, int64_t cap,
                                      bool running_min) {
    VSD_GRID_STRIDE(i, B * N) {
        const int64_t b = i / N, n = i % N;
        int64_t k = cap;
        for (int64_t p = running_min ? 0 : b; p <= b; p++) {  // max(len[p], 1), then the minimum
            const int64_t lp = len[p] > 1 ? len[p] : 1;
            k = lp < k ? lp : k;
        }
        w[i] = n < k ? 1.0f / (float)k : 0.0f;
    }
}

void length_weights(float* w, const int64_t* len, int64_t B, int64_t N, int64_t cap, bool running_min) {
    if (B * N > 0) VSD_LAUNCH(length_weights_kernel, grid1d(B * N), 256, 0, w, len, B, N, cap, running_min);
}

}  // namespace VSD_KNS
}  // namespace vsd
