// length_mask.cpp — the padding mask of a batch as a plain loop.
#include "length_mask.h"

#include <algorithm>

namespace vsd {

void length_mask_cpu(float* m, const int64_t* len, int64_t B, int64_t N) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < N; k++) m[b * N + k] = k < len[b] ? 1.0f : 0.0f;
}

void length_weights_cpu(float* w, const int64_t* len, int64_t B, int64_t N, int64_t cap, bool running_min) {
    int64_t shared = cap;  // the running minimum (running_min only)
    for (int64_t b = 0; b < B; b++) {
        int64_t k = std::min(cap, std::max<int64_t>(len[b], 1));
        if (running_min) k = shared = std::min(shared, k);
        for (int64_t n = 0; n < N; n++) w[b * N + n] = n < k ? 1.0f / (float)k : 0.0f;
    }
}

void causal_mask_cpu(float* m, int64_t L) {
    for (int64_t i = 0; i < L; i++)  // query i
        for (int64_t j = 0; j < L; j++) m[i * L + j] = j <= i ? 1.0f : 0.0f;
}

}  // namespace vsd
