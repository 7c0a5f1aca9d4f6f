// batchnorm.cpp — BatchNorm1d as plain loops. The backward in training is LayerNorm's formula
// (kernels/layernorm.cpp) taken over the N rows of each channel instead of the n columns of a row.
#include "batchnorm.h"

#include <cmath>

namespace vsd {

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

}  // namespace vsd
