/*
HREM's region-word relevance statistics, fused.            CPU reference: kernels/relation.cpp

What it computes (paper-notes §2.5 step 3; relation.h has the full definition)
    For every caption t and image i of a batch: the word-region cosine matrix a = LeakyReLU(psi_t phi_i^T)
    (W_t x R), normalised over words (t2i) and over regions (i2t), reduced to a mean and the top-K of
    the per-word (t2i) and per-region (i2t) maxima. Outputs mean_t2i (Bt, Bi), topk_t2i (Bt, Bi, K),
    mean_i2t (Bi, Bt), topk_i2t (Bi, Bt, K).
    Forward only: HREM detaches these inputs, so there is no backward to derive.

Why fused
    The PyTorch reference builds the 4-D tensor a[t, i, w, r] (B*B*W*R floats, ~47 MB at B = 128) and
    then reduces it with several passes. Here one block owns one (t, i) pair: its W x R tile lives in
    shared memory from the first multiply to the last reduction, and only 2 + 2K numbers per pair
    reach global memory.

The one version, step by step (block = 128 threads, grid = (Bi, Bt))
    1. Dot products, tiled over the feature dim: the block stages 32 features of its W words and R
       regions in shared memory (coalesced loads), then each thread accumulates its own entries of
       the tile a[w, r] (entry x = w*R + r, strided by the block size). Repeat for E/32 chunks.
    2. LeakyReLU in place.
    3. Norms over words (one thread per region) and over regions (one thread per word).
    4. row[w] = max_r a/cn[r] (thread per word), col[r] = max over the real words of a/rn[w].
    5. Two threads in different warps reduce row and col to their mean and top-K (K <= 16) with an
       insertion list in registers: a few hundred comparisons, negligible next to step 1.

Napkin math
    FLOPs: 2*Bt*Bi*W*R*E. B = 128, W = 20, R = 36, E = 1024: 2.4e10, ~0.5 ms at a realistic ~50 TFLOP/s
    fp32 (no tensor cores here). Global reads: each block reads (W + R)*E floats = 230 KB, mostly from
    L2 (every caption is read by Bi blocks), so the kernel is compute-bound once L2 holds psi and phi.
    The step-1 inner loop does 2 shared loads per FMA; a register-tiled version (each thread owning a
    2x2 patch) would halve that. It is left simple on purpose: the whole relation module is a small
    part of an HREM step.
*/
#include "common.cuh"
#include "relation.h"

namespace vsd {
namespace VSD_KNS {

constexpr int kRelChunk = 32;     // features staged per pass
constexpr int kRelThreads = 128;

// insert v into best[0:n] (descending, capacity K); returns the new count
__device__ inline int topk_insert(float* best, int n, int K, float v) {
    if (n == K && v <= best[K - 1]) return n;
    int j = n < K ? n : K - 1;  // the slot that frees up
    while (j > 0 && best[j - 1] < v) {
        best[j] = best[j - 1];
        j--;
    }
    best[j] = v;
    return n < K ? n + 1 : n;
}

__global__ void region_word_stats_kernel(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t,
                                         const float* psi, const float* phi, const int64_t* cap_len, int64_t Bt,
                                         int64_t L, int64_t Bi, int64_t R, int64_t E, int K, float slope, float eps) {
    const int64_t i = blockIdx.x, t = blockIdx.y;  // this block's image and caption
    const int tid = threadIdx.x, nt = blockDim.x;
    int64_t Lt = cap_len[t] < 1 ? 1 : cap_len[t];
    if (Lt > L) Lt = L;
    const int64_t W = (Lt > K ? Lt : K) < L ? (Lt > K ? Lt : K) : L;
    VSD_DYNAMIC_SHARED(float, sm);
    float* a = sm;                      // (W, R) tile, capacity L*R
    float* ws = a + L * R;              // (L, 32) words of this chunk
    float* rs = ws + L * kRelChunk;     // (R, 32) regions of this chunk
    float* cn = rs + R * kRelChunk;     // (R,) norms over words
    float* rn = cn + R;                 // (L,) norms over regions
    float* row = rn + L;                // (L,) t2i per-word maxima
    float* col = row + L;               // (R,) i2t per-region maxima
    const int64_t n = W * R;
    for (int64_t x = tid; x < n; x += nt) a[x] = 0.0f;
    // 1. a = psi_t phi_i^T, 32 features at a time
    for (int64_t e0 = 0; e0 < E; e0 += kRelChunk) {
        __syncthreads();  // the previous chunk is no longer being read
        for (int64_t x = tid; x < W * kRelChunk; x += nt) {
            const int64_t w = x / kRelChunk, k = x % kRelChunk;
            ws[x] = e0 + k < E ? psi[(t * L + w) * E + e0 + k] : 0.0f;
        }
        for (int64_t x = tid; x < R * kRelChunk; x += nt) {
            const int64_t r = x / kRelChunk, k = x % kRelChunk;
            rs[x] = e0 + k < E ? phi[(i * R + r) * E + e0 + k] : 0.0f;
        }
        __syncthreads();  // the chunk is staged
        for (int64_t x = tid; x < n; x += nt) {
            const float* wv = ws + (x / R) * kRelChunk;
            const float* rv = rs + (x % R) * kRelChunk;
            float s = 0.0f;
            for (int k = 0; k < kRelChunk; k++) s += wv[k] * rv[k];
            a[x] += s;  // each entry has exactly one owner thread: no race
        }
    }
    // 2. LeakyReLU (each thread touches the entries it accumulated)
    for (int64_t x = tid; x < n; x += nt) a[x] = a[x] > 0.0f ? a[x] : slope * a[x];
    __syncthreads();
    // 3. the normalisers
    for (int64_t r = tid; r < R; r += nt) {
        float s = 0.0f;
        for (int64_t w = 0; w < W; w++) s += a[w * R + r] * a[w * R + r];
        cn[r] = sqrtf(s) + eps;
    }
    for (int64_t w = tid; w < W; w += nt) {
        float s = 0.0f;
        for (int64_t r = 0; r < R; r++) s += a[w * R + r] * a[w * R + r];
        rn[w] = sqrtf(s) + eps;
    }
    __syncthreads();
    // 4. per-word and per-region maxima
    for (int64_t w = tid; w < W; w += nt) {
        float m = -INFINITY;
        for (int64_t r = 0; r < R; r++) m = fmaxf(m, a[w * R + r] / cn[r]);
        row[w] = m;
    }
    for (int64_t r = tid; r < R; r += nt) {
        float m = -INFINITY;
        for (int64_t w = 0; w < Lt; w++) m = fmaxf(m, a[w * R + r] / rn[w]);
        col[r] = m;
    }
    __syncthreads();
    // 5. means and top-K: lane 0 of warp 0 for t2i, lane 0 of warp 1 for i2t
    if (tid == 0 || tid == 32) {
        const bool t2i = tid == 0;
        const float* v = t2i ? row : col;
        const int64_t nv = t2i ? W : R, nmean = t2i ? Lt : R;
        float best[kRelationMaxK];
        int cnt = 0;
        float s = 0.0f;
        for (int64_t j = 0; j < nv; j++) {
            if (j < nmean) s += v[j];
            cnt = topk_insert(best, cnt, K, v[j]);
        }
        float* out = t2i ? topk_t2i + (t * Bi + i) * K : topk_i2t + (i * Bt + t) * K;
        for (int j = 0; j < K; j++) out[j] = j < cnt ? best[j] : 0.0f;
        if (t2i) mean_t2i[t * Bi + i] = s / (float)nmean;
        else mean_i2t[i * Bt + t] = s / (float)nmean;
    }
}

void region_word_stats(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t, const float* psi_hat,
                       const float* phi_hat, const int64_t* cap_len, int64_t Bt, int64_t L, int64_t Bi, int64_t R,
                       int64_t E, int K, float slope, float eps) {
    if (Bt == 0 || Bi == 0) return;
    ENSURE(K >= 1 && K <= kRelationMaxK, "region_word_stats: top-k %d is outside [1, %d]", K, kRelationMaxK);
    ENSURE(L >= 1 && R >= 1, "region_word_stats: needs at least one word and one region (L %lld, R %lld)", (long long)L,
           (long long)R);
    const size_t shmem = (size_t)(L * R + (L + R) * kRelChunk + 2 * (L + R)) * sizeof(float);
    ENSURE_HINT(shmem <= 48 * 1024, "truncate the captions or use fewer regions per image",
                "region_word_stats: %lld words x %lld regions need %zu bytes of shared memory, over 48 KB",
                (long long)L, (long long)R, shmem);
    VSD_LAUNCH(region_word_stats_kernel, dim3((unsigned)Bi, (unsigned)Bt), kRelThreads, shmem, mean_t2i, topk_t2i,
               mean_i2t, topk_i2t, psi_hat, phi_hat, cap_len, Bt, L, Bi, R, E, K, slope, eps);
}

}  // namespace VSD_KNS
}  // namespace vsd
