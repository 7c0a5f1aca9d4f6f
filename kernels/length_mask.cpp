// length_mask.cpp — the padding mask of a batch as a plain loop.
#include "length_mask.h"

namespace vsd {

void length_mask_cpu(float* m, const int64_t* len, int64_t B, int64_t N) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < N; k++) m[b * N + k] = k < len[b] ? 1.0f : 0.0f;
}

}  // namespace vsd
