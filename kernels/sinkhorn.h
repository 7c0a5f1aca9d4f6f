// sinkhorn.h — Sinkhorn-Knopp codes of VSD's prototype loss (SwAV's equal-partition assignment;
// VSD paper §3.3, paper-notes §3.4). CPU reference: sinkhorn.cpp; CUDA: sinkhorn.cu. In double.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// scores S (B, K) of B samples against K prototypes -> codes q (B, K):
//   Q[k, b] = exp(S[b, k] / eps),  Q /= sum Q
//   repeat `iterations` times:
//       each prototype's row gets mass 1/K:   Q[k, :] /= (sum_b Q[k, b]) K
//       each sample's column gets mass 1/B:   Q[:, b] /= (sum_k Q[k, b]) B
//   q[b, k] = B Q[k, b]                       (each sample's codes sum to 1)
// Q (K x B doubles) is the caller's scratch. exp(S / eps) stays finite for |S| <= 1, eps >= 0.05.
void sinkhorn_cpu(float* q, double* Q, const float* S, int64_t B, int64_t K, double eps, int iterations);

// the CUDA versions (kernels/sinkhorn.cu)
VSD_LAUNCHERS(
    void sinkhorn(float* q, double* Q, const float* S, int64_t B, int64_t K, double eps, int iterations);
)

}  // namespace vsd
