// topk_mask.cpp — the top-k connection mask as a plain loop (kernels/topk_mask.h).
#include "topk_mask.h"

namespace vsd {

void topk_mask_cpu(float* c, const float* s, int64_t N, int64_t M, int64_t k) {
    for (int64_t i = 0; i < N; i++) {
        const float* row = s + i * M;
        for (int64_t j = 0; j < M; j++) {
            int64_t greater = 0;  // entries of the row strictly above s[i, j]
            for (int64_t t = 0; t < M; t++) greater += row[t] > row[j] ? 1 : 0;
            c[i * M + j] = greater < k ? 1.0f : 0.0f;
        }
    }
}

}  // namespace vsd
