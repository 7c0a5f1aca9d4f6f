// layernorm.cpp — LayerNorm as plain loops.
//
// Backward derivation (per row; xhat = (x - mean) * rstd, g = dy * w):
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
// because xhat depends on x through x itself, through the mean (-1/n each), and through rstd
// (d rstd / dx_k = -rstd^3 (x_k - mean) / n).  dw += dy * xhat,  db += dy.
#include "layernorm.h"

#include <cmath>

namespace vsd {

void layernorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           int64_t rows, int64_t n, float eps) {
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * n;
        double s = 0.0, ss = 0.0;
        for (int64_t k = 0; k < n; k++) s += xr[k];
        double m = s / n;
        for (int64_t k = 0; k < n; k++) ss += (xr[k] - m) * (xr[k] - m);  // two-pass variance
        float rs = (float)(1.0 / std::sqrt(ss / n + eps));
        mean[r] = (float)m;
        rstd[r] = rs;
        for (int64_t k = 0; k < n; k++) y[r * n + k] = ((xr[k] - (float)m) * rs) * w[k] + b[k];
    }
}

void layernorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * n;
        const float* dyr = dy + r * n;
        double mg = 0.0, mgx = 0.0;  // mean(g), mean(g * xhat)
        for (int64_t k = 0; k < n; k++) {
            float xhat = (xr[k] - mean[r]) * rstd[r];
            float g = dyr[k] * w[k];
            mg += g;
            mgx += g * xhat;
            if (dw) dw[k] += dyr[k] * xhat;
            if (db) db[k] += dyr[k];
        }
        mg /= n;
        mgx /= n;
        if (dx)
            for (int64_t k = 0; k < n; k++) {
                float xhat = (xr[k] - mean[r]) * rstd[r];
                dx[r * n + k] += rstd[r] * (dyr[k] * w[k] - (float)mg - xhat * (float)mgx);
            }
    }
}

}  // namespace vsd
