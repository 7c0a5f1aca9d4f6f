// same_id_mask.cpp — the positive pairs of a batch as a plain loop (kernels/same_id_mask.h).
#include "same_id_mask.h"

namespace vsd {

void same_id_mask_cpu(float* m, const int64_t* ids, int64_t B, bool repeats) {
    for (int64_t i = 0; i < B; i++)
        for (int64_t j = 0; j < B; j++) m[i * B + j] = (i == j || (repeats && ids[i] == ids[j])) ? 1.0f : 0.0f;
}

}  // namespace vsd
