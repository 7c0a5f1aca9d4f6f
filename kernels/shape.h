// shape.h — moving elements between layouts: slabs (narrow, concat) and permutes (CPU references;
// CUDA: shape.cu). "accumulate" variants add instead of overwrite (used by backward).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// Copy a slab along one dim. Both tensors are viewed as (outer, n, inner) with their own n:
//   dst[o, dst_start + k, i] (=|+=) src[o, src_start + k, i]   for k < len
// narrow, concat and their backwards are all this one loop.
void slab_copy_cpu(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start,
                   int64_t len, int64_t outer, int64_t inner, bool accumulate);

// out = permute(in, perm): out dim k is in dim perm[k]. in_shape padded to 4 dims (leading 1s).
void permute_cpu(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate);

// the CUDA versions (kernels/shape.cu)
VSD_LAUNCHERS(
    void slab_copy(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start,
                   int64_t len, int64_t outer, int64_t inner, bool accumulate);
    void permute(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate);
)

}  // namespace vsd
