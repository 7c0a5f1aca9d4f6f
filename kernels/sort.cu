/*
Sorting and top-k on the GPU.                         CPU reference: kernels/sort.cpp

What it computes
    along the middle dim of (outer, n, inner), the first k of the order, stable: each element's
    output position is its rank = #{elements that come before it}, so every element is placed by
    its own thread, in parallel, and ties keep index order (O(n^2) per line: right for GPO's
    n <= ~64; a bitonic network is the next version)

Version
    1  one thread per input element, a grid-stride loop.
*/
#include "common.cuh"
#include "elementwise_ops.h"
#include "sort.h"

namespace vsd {
namespace VSD_KNS {

__global__ void sort_rank_kernel(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner,
                                 int64_t k, bool descending) {
    VSD_GRID_STRIDE(t, outer * n * inner) {
        const int64_t o = t / (n * inner), p = (t / inner) % n, i = t % inner;
        const float* line = x + o * n * inner + i;  // element q of this line is line[q * inner]
        const float v = line[p * inner];
        int64_t rank = 0;
        for (int64_t q = 0; q < n; q++) {
            const float u = line[q * inner];
            const bool before = descending ? nan_greater(u, v) : nan_greater(v, u);  // NaN above all, as the CPU's
            const bool tie = !nan_greater(u, v) && !nan_greater(v, u);
            if (before || (tie && q < p)) rank++;  // equal values (NaNs too) keep their index order (stable)
        }
        if (rank < k) {
            values[(o * k + rank) * inner + i] = v;
            indices[(o * k + rank) * inner + i] = p;
        }
    }
}

void sort_lines(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k, bool descending) {
    if (outer * n * inner > 0) VSD_LAUNCH(sort_rank_kernel, grid1d(outer * n * inner), 256, 0, values, indices, x, outer, n, inner, k, descending);
}

}  // namespace VSD_KNS
}  // namespace vsd
