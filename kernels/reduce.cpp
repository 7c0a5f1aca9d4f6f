// reduce.cpp — sums and maxima along a dimension, with the (outer, n, inner) view.
// Accumulation is in double so that long sums (n in the thousands) stay accurate to float.
#include "reduce.h"

#include "elementwise_ops.h"

#include <algorithm>
#include <vector>

namespace vsd {

void sum_dim_forward_cpu(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale) {
    // walk each (o, k) row contiguously, accumulating the `inner` sums side by side in double
#pragma omp parallel if (outer * n * inner > 65536 && outer > 1)
    {
        std::vector<double> acc(inner);
#pragma omp for schedule(static)
        for (int64_t o = 0; o < outer; o++) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t k = 0; k < n; k++) {
                const float* row = x + (o * n + k) * inner;
                for (int64_t i = 0; i < inner; i++) acc[i] += row[i];
            }
            for (int64_t i = 0; i < inner; i++) y[o * inner + i] = (float)(acc[i] * scale);
        }
    }
}

void sum_dim_backward_cpu(float* dx, const float* dy, int64_t outer, int64_t n, int64_t inner, float scale) {
#pragma omp parallel for if (outer * n * inner > 65536)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < n; k++)
            for (int64_t i = 0; i < inner; i++) dx[(o * n + k) * inner + i] += scale * dy[o * inner + i];
}

void max_dim_forward_cpu(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t best = 0;
            float v = x[o * n * inner + i];
            for (int64_t k = 1; k < n; k++) {
                float c = x[(o * n + k) * inner + i];
                if (nan_greater(c, v)) { v = c; best = k; }  // strict: ties keep the first index; NaN wins
            }
            y[o * inner + i] = v;
            idx[o * inner + i] = best;
        }
}

void max_dim_backward_cpu(float* dx, const float* dy, const int64_t* idx, int64_t outer, int64_t n, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) dx[(o * n + idx[o * inner + i]) * inner + i] += dy[o * inner + i];
}

}  // namespace vsd
