/*
The top-k connection mask on the GPU.                  CPU reference: kernels/topk_mask.cpp

What it computes
    c[i, j] = 1 if fewer than k entries of row i are strictly greater than s[i, j], else 0:
    row i's k largest entries, and every entry tied with the k-th

Version
    1  one thread per entry, counting over its row: O(M) reads each, from L1/L2 (rows are a
       batch wide). A selection per row (radix select) would beat it only for rows far wider
       than HREM's.
*/
#include "common.cuh"
#include "topk_mask.h"

namespace vsd {
namespace VSD_KNS {

__global__ void topk_mask_kernel(float* c, const float* s, int64_t N, int64_t M, int64_t k) {
    VSD_GRID_STRIDE(e, N * M) {
        const float* row = s + (e / M) * M;
        const float v = s[e];
        int64_t greater = 0;
        for (int64_t t = 0; t < M; t++) greater += row[t] > v ? 1 : 0;
        c[e] = greater < k ? 1.0f : 0.0f;
    }
}

void topk_mask(float* c, const float* s, int64_t N, int64_t M, int64_t k) {
    if (N * M > 0) VSD_LAUNCH(topk_mask_kernel, grid1d(N * M), 256, 0, c, s, N, M, k);
}

}  // namespace VSD_KNS
}  // namespace vsd
