// length_mask.h — which positions of a padded batch are real (CPU reference; CUDA: length_mask.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// m[b, k] = 1 if k < len[b] else 0        m (B, N), len (B,)
void length_mask_cpu(float* m, const int64_t* len, int64_t B, int64_t N);

// the CUDA versions (kernels/length_mask.cu)
VSD_LAUNCHERS(
    void length_mask(float* m, const int64_t* len, int64_t B, int64_t N);
)

}  // namespace vsd
