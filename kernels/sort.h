// sort.h — sorting and top-k along one dim (CPU reference; CUDA: sort.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// x (outer, n, inner) -> the first k of the sorted order, values (outer, k, inner) and source
// indices (outer, k, inner). Stable: equal values keep their original order; NaN sorts above every
// number (elementwise_ops.h: nan_greater). k = n is a full sort; k < n is top-k. The backward is
// gather_backward_cpu (kernels/gather.h) with these indices.
void sort_cpu(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k,
              bool descending);

// the CUDA versions (kernels/sort.cu)
VSD_LAUNCHERS(
    void sort_lines(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner,
                    int64_t k, bool descending);
)

}  // namespace vsd
