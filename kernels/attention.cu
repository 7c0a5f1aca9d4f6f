/*
Fused multi-head attention, forward (inference).           CPU reference: kernels/attention.cpp

What it computes (attention.h)
    out[b, i, head a] = softmax_t(scale q_i . k_t over the visible keys) . v     q, k, v, out: (B, L, A*d)

Why fused
    The unfused path writes the scores (B, A, L, L) to memory, reads them for the softmax, writes
    the probabilities, reads them again for the product with V, and permutes Q, K, V and the
    output between (B, L, A, d) and (B, A, L, d): six extra passes over memory. Here one warp owns
    one query row of one head: its L scores live in shared memory, and only the d outputs are
    written. At inference (eval, tools/embed) nothing else needs the probabilities.
    (Training keeps the unfused ops: their backward needs the probabilities; a fused backward in
    the FlashAttention style would recompute them. cuDNN's fused attention would be the expert path.)

The one version (warp per (b, head, query); 4 warps a block)
    1. lanes split the keys: lane l scores keys l, l+32, ... (each a d-long dot product; the K rows
       come from L2, as every query of the head reads them);
    2. the row max and the sum of exponentials by warp shuffles (no block barrier needed);
    3. __syncwarp so every lane sees all scores, then lanes split the d output columns and each
       sums over the keys: coalesced reads of V rows.

Napkin math
    FLOPs 4*B*A*L^2*d (scores and the weighted sum). bert-base, B = 32, L = 24: 0.17 GFLOP per
    layer, tiny; what fusion saves is the memory traffic of the (B, A, L, L) tensors and the permutes.
*/
#include "common.cuh"
#include "attention.h"

namespace vsd {
namespace VSD_KNS {

constexpr int kAttnWarps = 4;  // query rows per block

__global__ void attention_forward_kernel(float* out, const float* q, const float* k, const float* v, const float* keep,
                                         int64_t B, int64_t L, int64_t A, int64_t d, float scale) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t row = (int64_t)blockIdx.x * kAttnWarps + warp;  // (b, a, i) flattened
    VSD_DYNAMIC_SHARED(float, sh);
    float* p = sh + warp * L;  // this warp's scores
    if (row >= B * A * L) return;  // whole warps leave together
    const int64_t b = row / (A * L), a = (row / L) % A, i = row % L, H = A * d;
    const float* qi = q + (b * L + i) * H + a * d;
    // 1. scores
    float m = -INFINITY;
    for (int64_t t = lane; t < L; t += 32) {
        float s = -INFINITY;
        if (!keep || keep[b * L + t] != 0.0f) {
            const float* kt = k + (b * L + t) * H + a * d;
            s = 0.0f;
            for (int64_t j = 0; j < d; j++) s += qi[j] * kt[j];
            s *= scale;
        }
        p[t] = s;
        m = fmaxf(m, s);
    }
    // 2. max and normaliser across the warp
    m = warp_reduce_max(m);
    float* o = out + (b * L + i) * H + a * d;
    if (m == -INFINITY) {  // no visible key
        for (int64_t j = lane; j < d; j += 32) o[j] = 0.0f;
        return;
    }
    float z = 0.0f;
    for (int64_t t = lane; t < L; t += 32) {
        p[t] = p[t] == -INFINITY ? 0.0f : expf(p[t] - m);
        z += p[t];
    }
    z = warp_reduce_sum(z);
    __syncwarp();  // every lane's p[t] is visible to the whole warp
    // 3. weighted sum of the values, lanes over the output columns
    for (int64_t j = lane; j < d; j += 32) {
        float acc = 0.0f;
        for (int64_t t = 0; t < L; t++) acc += p[t] * v[(b * L + t) * H + a * d + j];
        o[j] = acc / z;
    }
}

void attention_forward(float* out, const float* q, const float* k, const float* v, const float* keep, int64_t B, int64_t L,
                       int64_t A, int64_t d, float scale) {
    const int64_t rows = B * A * L;
    if (rows == 0) return;
    const size_t shmem = (size_t)kAttnWarps * L * sizeof(float);
    ENSURE_HINT(shmem <= 48 * 1024, "use the unfused attention (training mode) for such long inputs",
                "attention_forward: %lld tokens need %zu bytes of shared memory, over 48 KB", (long long)L, shmem);
    VSD_LAUNCH(attention_forward_kernel, ceil_div(rows, kAttnWarps), 32 * kAttnWarps, shmem, out, q, k, v, keep, B, L, A, d,
               scale);
}

// one thread per sample, scanning its row of keep as the CPU reference does (L is a caption)
__global__ void key_prefix_lengths_kernel(int32_t* len, const float* keep, int64_t B, int64_t L) {
    VSD_GRID_STRIDE(b, B) {
        const float* kb = keep + b * L;
        int64_t n = 0;
        while (n < L && kb[n] != 0.0f) n++;
        bool prefix = n >= 1;
        for (int64_t t = n; t < L; t++) prefix = prefix && kb[t] == 0.0f;
        len[b] = prefix ? (int32_t)n : -1;
    }
}

void key_prefix_lengths(int32_t* len, const float* keep, int64_t B, int64_t L) {
    if (B > 0) VSD_LAUNCH(key_prefix_lengths_kernel, grid1d(B), 256, 0, len, keep, B, L);
}

}  // namespace VSD_KNS
}  // namespace vsd
