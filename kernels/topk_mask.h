// topk_mask.h — which entries of each row are among the row's k largest (CPU reference; CUDA:
// topk_mask.cu). HREM's sparse connections, paper-notes §2.5.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// c[i, j] = 1 if s[i, j] >= (the k-th largest value of row i) else 0        s, c (N, M), 1 <= k <= M
//
// Equivalently: fewer than k entries of the row are strictly greater than s[i, j]. Ties with the
// k-th value are all kept, so a row can have more than k ones (the reference's `s >= kth` does
// the same). The count is what both versions compute: O(M) per entry, and M is a batch.
void topk_mask_cpu(float* c, const float* s, int64_t N, int64_t M, int64_t k);

// the CUDA versions (kernels/topk_mask.cu)
VSD_LAUNCHERS(
    void topk_mask(float* c, const float* s, int64_t N, int64_t M, int64_t k);
)

}  // namespace vsd
