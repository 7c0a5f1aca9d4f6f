// attention.h — fused multi-head attention, forward and backward, with dropout on the probabilities.
//
//   out[b, i, a*d + j] = sum_t P[t] m[t] v[b, t, a*d + j],   P = softmax_t(scale <q[b, i, a], k[b, t, a]>)
// over the keys t with keep[b, t] != 0 (all keys when keep is null), where m[t] is dropout's keep
// scale (0 or 1/(1-p), elementwise_ops.h: dropout_scale(seed, e, p), e the flat index of P's element
// in (B, A, L, L): the mask the unfused path's dropout draws). q, k, v, out: (B, L, H) with H = A*d:
// the heads are column blocks, exactly the layout the Q/K/V projections produce, so nothing is
// permuted. A query whose keys are all hidden gets 0 (as our masked softmax).
//
// Backward (P saved by the forward, (B, A, L, L), before dropout):
//   dP'[i, t] = <dout_i, v_t>             (the gradient of the dropped probabilities)
//   dP[i, t]  = dP'[i, t] m[i, t]
//   dS[i, t]  = P[i, t] (dP[i, t] - sum_u P[i, u] dP[i, u])        (softmax's backward)
//   dq_i += scale sum_t dS[i, t] k_t,  dk_t += scale sum_i dS[i, t] q_i,  dv_t += sum_i P[i, t] m[i, t] dout_i
// The unfused path (matmul, softmax, dropout, matmul and four permutes: multi_head_attention in
// src/nn/layers.cpp) computes the same, in ~20 launches a layer instead of 3.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// The sizes and options of one call.
struct AttnArgs {
    int64_t B, L, A, d;  // batch, tokens, heads, head dim (q, k, v: (B, L, A*d))
    float scale;         // on the scores: 1/sqrt(d)
    float p = 0.0f;      // dropout on the probabilities (0: none)
    uint64_t seed = 0;   // its hash seed
    // the Q, K, V projections' biases (A*d each), added to q, k, v as they are read, so that the
    // projections can be bare GEMMs; null: none
    const float* bq = nullptr;
    const float* bk = nullptr;
    const float* bv = nullptr;
};

// x[row + col] + bias[col], or x[row + col] without a bias: q, k, v as the attention reads them
// (the CPU reference and the kernels share it)
VSD_HD float attn_read(const float* x, const float* bias, int64_t row, int64_t col) {
    return bias ? x[row + col] + bias[col] : x[row + col];
}

// P: null (inference), or (B, A, L, L) to receive the probabilities for the backward.
void attention_forward_cpu(float* out, const float* q, const float* k, const float* v, const float* keep, float* P,
                           const AttnArgs& a);
// dq, dk, dv += the gradients (accumulate), or = them (any of them null: not wanted); dS: (B, A, L, L)
// scratch, written. The gradients are those of q + bq, k + bk, v + bv.
void attention_backward_cpu(float* dq, float* dk, float* dv, bool accumulate, const float* dout, const float* q,
                            const float* k, const float* v, const float* P, float* dS, const AttnArgs& a);
// With biases, the backward writes its three gradients to scratch g; this then adds each to d and
// its column sums to db (the bias gradient): d[r, j] += g[r, j], db[j] += sum_r g[r, j], rows x H
struct AttnBiasGrads {
    float* d[3];         // q, k, v's gradients (null: not wanted)
    float* db[3];        // the biases' gradients (null: not wanted)
    const float* g[3];   // the scratch gradients
};
void attention_bias_grads_cpu(const AttnBiasGrads& t, int64_t rows, int64_t H);

// The key lengths cuDNN's attention takes, when the visible keys are a prefix:
//   len[b] = n >= 1 if keep[b, t] != 0 exactly for t < n, else -1          keep (B, L), len (B,)
void key_prefix_lengths_cpu(int32_t* len, const float* keep, int64_t B, int64_t L);

// the CUDA versions
VSD_LAUNCHERS(
    void attention_forward(float* out, const float* q, const float* k, const float* v, const float* keep, float* P,
                           const AttnArgs& a);
    void attention_backward(float* dq, float* dk, float* dv, bool accumulate, const float* dout, const float* q,
                            const float* k, const float* v, const float* P, float* dS, const AttnArgs& a);
    void attention_bias_grads(const AttnBiasGrads& t, int64_t rows, int64_t H);
    void key_prefix_lengths(int32_t* len, const float* keep, int64_t B, int64_t L);
)

}  // namespace vsd
