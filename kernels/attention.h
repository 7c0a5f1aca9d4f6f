// attention.h — fused multi-head attention, forward only (inference: eval, tools/embed).
//
//   out[b, i, a*d + j] = sum_t p[t] v[b, t, a*d + j],   p = softmax_t(scale <q[b, i, a], k[b, t, a]>)
// over the keys t with keep[b, t] != 0 (all keys when keep is null). q, k, v, out: (B, L, H) with
// H = A*d: the heads are column blocks, exactly the layout the Q/K/V projections produce, so
// nothing is permuted. A query whose keys are all hidden gets 0 (as our masked softmax).
// The unfused path (matmul, softmax, matmul and four permutes) stays the reference and the
// training path: this op has no backward.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

void attention_forward_cpu(float* out, const float* q, const float* k, const float* v, const float* keep, int64_t B,
                           int64_t L, int64_t A, int64_t d, float scale);

// The key lengths cuDNN's attention takes, when the visible keys are a prefix:
//   len[b] = n >= 1 if keep[b, t] != 0 exactly for t < n, else -1          keep (B, L), len (B,)
void key_prefix_lengths_cpu(int32_t* len, const float* keep, int64_t B, int64_t L);

// the CUDA versions
VSD_LAUNCHERS(
    // fused, forward only (inference)
    void attention_forward(float* out, const float* q, const float* k, const float* v, const float* keep, int64_t B,
                           int64_t L, int64_t A, int64_t d, float scale);
    void key_prefix_lengths(int32_t* len, const float* keep, int64_t B, int64_t L);
)

}  // namespace vsd
