// length_mask.h — which positions of a padded batch are real, and which keys a query may see
// (CPU reference; CUDA: length_mask.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// m[b, k] = 1 if k < len[b] else 0        m (B, N), len (B,)
void length_mask_cpu(float* m, const int64_t* len, int64_t B, int64_t N);

// Averaging weights over each sample's first k[b] positions:
//     w[b, n] = 1/k[b] if n < k[b] else 0          w (B, N), len (B,)
//     k[b]    = min(cap, max(len[b], 1))           (an empty sample averages its first position)
// With running_min, k[b] also takes the minimum over the samples before it,
//     k[b]    = min(cap, min over b' <= b of max(len[b'], 1)),
// which is the official HREM MaxK pooling's quirk (paper-notes §2.4): its k shrinks as it walks
// the batch and never grows back.
void length_weights_cpu(float* w, const int64_t* len, int64_t B, int64_t N, int64_t cap, bool running_min);

// A causal (autoregressive) mask: query i sees keys j <= i.   m[i, j] = 1 if j <= i else 0, m (L, L)
// (CLIP's text transformer: each token attends to itself and the tokens before it.)
void causal_mask_cpu(float* m, int64_t L);

// the CUDA versions (kernels/length_mask.cu)
VSD_LAUNCHERS(
    void causal_mask(float* m, int64_t L);
    void length_mask(float* m, const int64_t* len, int64_t B, int64_t N);
    void length_weights(float* w, const int64_t* len, int64_t B, int64_t N, int64_t cap, bool running_min);
)

}  // namespace vsd
