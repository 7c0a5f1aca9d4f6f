// same_id_mask.h — which pairs of a batch belong together (CPU reference; CUDA: same_id_mask.cu).
// The positives of the hinge and triplet losses, paper-notes §3.1-3.2.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// m[i, j] = 1 if i == j, or (repeats) ids[i] == ids[j]; else 0            m (B, B), ids (B,)
// With repeats = false it is the identity matrix (the diagonal of matched pairs).
void same_id_mask_cpu(float* m, const int64_t* ids, int64_t B, bool repeats);

// the CUDA versions (kernels/same_id_mask.cu)
VSD_LAUNCHERS(
    void same_id_mask(float* m, const int64_t* ids, int64_t B, bool repeats);
)

}  // namespace vsd
