/*
Fused multi-head attention, forward and backward.       CPU reference: kernels/attention.cpp

What it computes (attention.h)
    out[b, i, head a] = (softmax_t(scale q_i . k_t over the visible keys) * dropout mask) . v
    q, k, v, out: (B, L, A*d); the probabilities P (B, A, L, L) are kept for the backward.

Why fused
    The unfused path (src/nn/layers.cpp: multi_head_attention) permutes Q, K and V to (B, A, L, d),
    multiplies, scales, softmaxes, drops out, multiplies again and permutes back: nine launches
    forward and about a dozen backward, each a pass over memory. Here one warp owns one query row
    of one head: its L scores live in shared memory, and only P's row and the d outputs are
    written. BERT-base's attention is then 3 launches a layer instead of ~20.

Versions (one each)
    forward   warp per (b, head, query); 4 warps a block:
              1. lanes split the keys: lane l scores keys l, l+32, ... (each a d-long dot product;
                 the K rows come from L2, as every query of the head reads them);
              2. the row max and the sum of exponentials by warp shuffles (no block barrier);
              3. P's row is normalised (and written, when training), then multiplied by dropout's
                 mask, recomputed from the counter-based hash (nothing stored);
              4. __syncwarp so every lane sees all of it, then lanes split the d output columns
                 and each sums over the keys: coalesced reads of V rows.
    backward  two kernels, so that every gradient element is summed by one thread in a fixed
              order (no atomics: the same bits every run):
              rows  warp per (b, head, query i): dP[t] = <dout_i, v_t> m[i, t] (lanes over t), the
                    row's sum of P dP by shuffles, dS[i, t] = P (dP - sum) into shared memory and to
                    the dS scratch, then dq_i += scale dS[i, :] K (lanes over columns);
              keys  warp per (b, head, key t): column t of dS and of P m into shared memory, then
                    dk_t += scale dS[:, t]^T Q and dv_t += (P m)[:, t]^T dout (lanes over columns).
              With the projections' biases (added to q, k, v as they are read, so the projections
              are bare GEMMs), the two write to scratch, and a third kernel adds the scratch to
              dq, dk, dv and sums its columns into the biases' gradients (32 x 8 blocks, fixed order).

Napkin math
    FLOPs 4*B*A*L^2*d forward, 8*B*A*L^2*d backward. bert-base, B = 128, L = 32: 1.6 GFLOP per
    layer forward, tiny beside its 29 GFLOP of projections; what fusion saves is launches and the
    memory passes of the (B, A, L, L) tensors and the permutes.
*/
#include "common.cuh"
#include "attention.h"
#include "elementwise_ops.h"  // dropout_scale

namespace vsd {
namespace VSD_KNS {

constexpr int kAttnWarps = 4;  // query rows per block

__global__ void attention_forward_kernel(float* out, const float* q, const float* k, const float* v, const float* keep,
                                         float* P, AttnArgs g) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t L = g.L, A = g.A, d = g.d, H = A * d;
    const int64_t row = (int64_t)blockIdx.x * kAttnWarps + warp;  // (b, a, i) flattened: P's row
    VSD_DYNAMIC_SHARED(float, sh);
    float* p = sh + warp * L;  // this warp's scores, then probabilities
    if (row >= g.B * A * L) return;  // whole warps leave together
    const int64_t b = row / (A * L), a = (row / L) % A, i = row % L;
    // 1. scores
    float m = -INFINITY;
    for (int64_t t = lane; t < L; t += 32) {
        float s = -INFINITY;
        if (!keep || keep[b * L + t] != 0.0f) {
            s = 0.0f;
            for (int64_t j = 0; j < d; j++)
                s += attn_read(q, g.bq, (b * L + i) * H, a * d + j) * attn_read(k, g.bk, (b * L + t) * H, a * d + j);
            s *= g.scale;
        }
        p[t] = s;
        m = fmaxf(m, s);
    }
    // 2. max and normaliser across the warp
    m = warp_reduce_max(m);
    float z = 0.0f;
    for (int64_t t = lane; t < L; t += 32) {
        p[t] = p[t] == -INFINITY ? 0.0f : expf(p[t] - m);
        z += p[t];
    }
    z = warp_reduce_sum(z);
    // 3. the probabilities (all 0 when no key is visible), kept for the backward; dropout's mask
    for (int64_t t = lane; t < L; t += 32) {
        p[t] = m == -INFINITY ? 0.0f : p[t] / z;
        if (P) P[row * L + t] = p[t];
        if (g.p > 0.0f) p[t] *= dropout_scale(g.seed, row * L + t, g.p);
    }
    __syncwarp();  // every lane's p[t] is visible to the whole warp
    // 4. weighted sum of the values, lanes over the output columns
    float* o = out + (b * L + i) * H + a * d;
    for (int64_t j = lane; j < d; j += 32) {
        float acc = 0.0f;
        for (int64_t t = 0; t < L; t++) acc += p[t] * attn_read(v, g.bv, (b * L + t) * H, a * d + j);
        o[j] = acc;
    }
}

// dst = dst + val (accumulate) or val
__device__ inline void put(float* dst, bool accumulate, float val) { *dst = accumulate ? *dst + val : val; }

// backward, 1 of 2: a warp per query row (b, a, i): dS's row, and dq_i
__global__ void attention_backward_rows_kernel(float* dq, bool accumulate, const float* dout, const float* k,
                                               const float* v, const float* P, float* dS, AttnArgs g) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t L = g.L, A = g.A, d = g.d, H = A * d;
    const int64_t row = (int64_t)blockIdx.x * kAttnWarps + warp;
    VSD_DYNAMIC_SHARED(float, sh);
    float* s = sh + warp * L;  // this warp's row of dS
    if (row >= g.B * A * L) return;
    const int64_t b = row / (A * L), a = (row / L) % A, i = row % L;
    const float* gi = dout + (b * L + i) * H + a * d;
    // dP[t] = <dout_i, v_t> m[i, t]; and sum_t P dP
    float dot = 0.0f;
    for (int64_t t = lane; t < L; t += 32) {
        float gp = 0.0f;
        for (int64_t j = 0; j < d; j++) gp += gi[j] * attn_read(v, g.bv, (b * L + t) * H, a * d + j);
        if (g.p > 0.0f) gp *= dropout_scale(g.seed, row * L + t, g.p);
        s[t] = gp;
        dot += P[row * L + t] * gp;
    }
    dot = warp_reduce_sum(dot);
    for (int64_t t = lane; t < L; t += 32) {
        s[t] = P[row * L + t] * (s[t] - dot);
        dS[row * L + t] = s[t];
    }
    __syncwarp();
    if (!dq) return;
    for (int64_t j = lane; j < d; j += 32) {
        float acc = 0.0f;
        for (int64_t t = 0; t < L; t++) acc += s[t] * attn_read(k, g.bk, (b * L + t) * H, a * d + j);
        put(&dq[(b * L + i) * H + a * d + j], accumulate, g.scale * acc);
    }
}

// backward, 2 of 2: a warp per key row (b, a, t): dk_t and dv_t from column t of dS and of P m
__global__ void attention_backward_keys_kernel(float* dk, float* dv, bool accumulate, const float* dout, const float* q,
                                               const float* P, const float* dS, AttnArgs g) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t L = g.L, A = g.A, d = g.d, H = A * d;
    const int64_t col = (int64_t)blockIdx.x * kAttnWarps + warp;  // (b, a, t) flattened
    VSD_DYNAMIC_SHARED(float, sh);
    float* ds = sh + warp * 2 * L;  // column t of dS
    float* pm = ds + L;             // column t of P m
    if (col >= g.B * A * L) return;
    const int64_t b = col / (A * L), a = (col / L) % A, t = col % L;
    const int64_t head = (b * A + a) * L * L;  // (b, a)'s L x L block
    for (int64_t i = lane; i < L; i += 32) {
        const int64_t e = head + i * L + t;
        ds[i] = dS[e];
        pm[i] = g.p > 0.0f ? P[e] * dropout_scale(g.seed, e, g.p) : P[e];
    }
    __syncwarp();
    for (int64_t j = lane; j < d; j += 32) {
        float gk = 0.0f, gv = 0.0f;
        for (int64_t i = 0; i < L; i++) {
            gk += ds[i] * attn_read(q, g.bq, (b * L + i) * H, a * d + j);
            gv += pm[i] * dout[(b * L + i) * H + a * d + j];
        }
        const int64_t e = (b * L + t) * H + a * d + j;
        if (dk) put(&dk[e], accumulate, g.scale * gk);
        if (dv) put(&dv[e], accumulate, gv);
    }
}

// the biases' gradients: blockIdx.y picks q, k or v; the column pattern of bias_fused.cu (32
// columns a block, 8 lanes over the rows, the partial sums added in a fixed order)
constexpr int kBiasLanes = 8;
__global__ void attention_bias_grads_kernel(AttnBiasGrads t, int64_t rows, int64_t H) {
    __shared__ float part[kBiasLanes][32];
    const int x = blockIdx.y;
    const int64_t j = (int64_t)blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (j < H)
        for (int64_t r = threadIdx.y; r < rows; r += kBiasLanes) {
            const float gv = t.g[x][r * H + j];
            if (t.d[x]) t.d[x][r * H + j] += gv;
            s += gv;
        }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < H && t.db[x]) {
        float sum = 0.0f;
        for (int l = 0; l < kBiasLanes; l++) sum += part[l][threadIdx.x];
        t.db[x][j] += sum;
    }
}

static size_t attention_shared(int64_t L, int per_warp, const char* what) {
    const size_t shmem = (size_t)kAttnWarps * per_warp * L * sizeof(float);
    ENSURE_HINT(shmem <= 48 * 1024, "use the unfused attention (multi_head_attention) for such long inputs",
                "%s: %lld tokens need %zu bytes of shared memory, over 48 KB", what, (long long)L, shmem);
    return shmem;
}

void attention_forward(float* out, const float* q, const float* k, const float* v, const float* keep, float* P,
                       const AttnArgs& a) {
    const int64_t rows = a.B * a.A * a.L;
    if (rows == 0) return;
    VSD_LAUNCH(attention_forward_kernel, ceil_div(rows, kAttnWarps), 32 * kAttnWarps,
               attention_shared(a.L, 1, "attention_forward"), out, q, k, v, keep, P, a);
}

void attention_backward(float* dq, float* dk, float* dv, bool accumulate, const float* dout, const float* q, const float* k,
                        const float* v, const float* P, float* dS, const AttnArgs& a) {
    const int64_t rows = a.B * a.A * a.L;
    if (rows == 0) return;
    VSD_LAUNCH(attention_backward_rows_kernel, ceil_div(rows, kAttnWarps), 32 * kAttnWarps,
               attention_shared(a.L, 1, "attention_backward"), dq, accumulate, dout, k, v, P, dS, a);
    if (dk || dv)
        VSD_LAUNCH(attention_backward_keys_kernel, ceil_div(rows, kAttnWarps), 32 * kAttnWarps,
                   attention_shared(a.L, 2, "attention_backward"), dk, dv, accumulate, dout, q, P, dS, a);
}

void attention_bias_grads(const AttnBiasGrads& t, int64_t rows, int64_t H) {
    if (H > 0) VSD_LAUNCH(attention_bias_grads_kernel, dim3((unsigned)ceil_div(H, 32), 3), dim3(32, kBiasLanes), 0, t, rows, H);
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
