// norm.cpp — normalisation layers as plain loops.
//
// LayerNorm backward derivation (per row; xhat = (x - mean) * rstd, g = dy * w):
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
// because xhat depends on x through x itself, through the mean (-1/n each), and through rstd
// (d rstd / dx_k = -rstd^3 (x_k - mean) / n).  dw += dy * xhat,  db += dy.
// BatchNorm in training is the same formula taken over the N rows of each channel instead of the
// n columns of each row; in eval the statistics are constants, so dx = dy * w * rstd.
#include "norm.h"

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

void batchnorm_forward_cpu(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                           float* running_mean, float* running_var, int64_t N, int64_t C, bool training,
                           float momentum, float eps) {
    for (int64_t c = 0; c < C; c++) {
        double m, var;
        if (training) {
            double s = 0.0, ss = 0.0;
            for (int64_t i = 0; i < N; i++) s += x[i * C + c];
            m = s / N;
            for (int64_t i = 0; i < N; i++) ss += (x[i * C + c] - m) * (x[i * C + c] - m);
            var = ss / N;  // biased, for normalising
            double unbiased = N > 1 ? ss / (N - 1) : var;
            running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * m);
            running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
        } else {
            m = running_mean[c];
            var = running_var[c];
        }
        float rs = (float)(1.0 / std::sqrt(var + eps));
        mean[c] = (float)m;
        rstd[c] = rs;
        for (int64_t i = 0; i < N; i++) y[i * C + c] = (x[i * C + c] - (float)m) * rs * w[c] + b[c];
    }
}

void batchnorm_backward_cpu(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                            const float* rstd, const float* w, int64_t N, int64_t C, bool training) {
    for (int64_t c = 0; c < C; c++) {
        double sg = 0.0, sgx = 0.0;  // sums over the batch of dy and dy * xhat
        for (int64_t i = 0; i < N; i++) {
            float xhat = (x[i * C + c] - mean[c]) * rstd[c];
            sg += dy[i * C + c];
            sgx += dy[i * C + c] * xhat;
        }
        if (dw) dw[c] += (float)sgx;
        if (db) db[c] += (float)sg;
        if (!dx) continue;
        for (int64_t i = 0; i < N; i++) {
            float g = dy[i * C + c];
            if (training) {
                float xhat = (x[i * C + c] - mean[c]) * rstd[c];
                dx[i * C + c] += w[c] * rstd[c] * (g - (float)(sg / N) - xhat * (float)(sgx / N));
            } else {
                dx[i * C + c] += w[c] * rstd[c] * g;
            }
        }
    }
}

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

}  // namespace vsd
