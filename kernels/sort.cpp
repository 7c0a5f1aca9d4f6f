// sort.cpp — a stable sort of each line with std::stable_sort over indices.
#include "sort.h"
#include "elementwise_ops.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace vsd {

void sort_cpu(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k,
              bool descending) {
    // Each line (o, :, i) is gathered into a contiguous buffer first: the line itself is strided by
    // `inner` in memory, and sorting through that stride would miss the cache on every access.
    // Short lines (GPO sorts 36 regions or ~20 tokens per feature) use insertion sort, which is
    // stable and fast at that size; long lines use std::stable_sort.
#pragma omp parallel if (outer * inner * n > 32768)
    {
        std::vector<float> v(n);
        std::vector<int64_t> order(n);
#pragma omp for collapse(2) schedule(static)
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const float* col = x + o * n * inner + i;
                for (int64_t t = 0; t < n; t++) { v[t] = col[t * inner]; order[t] = t; }
                // NaN sorts above every number (first when descending), as PyTorch's sort and topk
                auto before = [&](int64_t p, int64_t q) { return descending ? nan_greater(v[p], v[q]) : nan_greater(v[q], v[p]); };
                if (n <= 64) {
                    for (int64_t t = 1; t < n; t++) {  // insertion sort: stable (strict comparison)
                        int64_t cur = order[t], u = t;
                        while (u > 0 && before(cur, order[u - 1])) { order[u] = order[u - 1]; u--; }
                        order[u] = cur;
                    }
                } else {
                    std::stable_sort(order.begin(), order.end(), before);  // ties keep index order
                }
                for (int64_t t = 0; t < k; t++) {
                    values[(o * k + t) * inner + i] = v[order[t]];
                    indices[(o * k + t) * inner + i] = order[t];
                }
            }
    }
}

}  // namespace vsd
