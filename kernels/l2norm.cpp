// l2norm.cpp — L2 normalisation of rows as plain loops.
#include "l2norm.h"

#include <algorithm>
#include <cmath>

namespace vsd {

void l2norm_forward_cpu(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * n;
        double ss = 0.0;
        for (int64_t k = 0; k < n; k++) ss += (double)xr[k] * xr[k];
        float nr = (float)std::sqrt(ss);
        norm[r] = nr;
        float inv = 1.0f / (nr + eps);  // eps added to the norm, outside the sqrt (the reference's l2norm)
        for (int64_t k = 0; k < n; k++) y[r * n + k] = xr[k] * inv;
    }
}

void l2norm_backward_cpu(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n,
                         float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * n;
        const float* dyr = dy + r * n;
        float d = norm[r] + eps;
        double dot = 0.0;
        for (int64_t k = 0; k < n; k++) dot += (double)dyr[k] * xr[k];
        // y = x / d(x), d = ||x|| + eps, dd/dx = x / ||x||
        float c = norm[r] > 0.0f ? (float)(dot / ((double)d * d * norm[r])) : 0.0f;
        for (int64_t k = 0; k < n; k++) dx[r * n + k] += dyr[k] / d - xr[k] * c;
    }
}

void unit_rows_cpu(float* y, const float* x, int64_t rows, int64_t n, double eps) {
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t k = 0; k < n; k++) ss += (double)x[r * n + k] * x[r * n + k];
        const float inv = (float)(1.0 / std::max(std::sqrt(ss), eps));
        for (int64_t k = 0; k < n; k++) y[r * n + k] = x[r * n + k] * inv;
    }
}

}  // namespace vsd
