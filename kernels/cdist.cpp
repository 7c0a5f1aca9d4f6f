// cdist.cpp — pairwise distances and their gradient as plain loops.
#include "cdist.h"

#include <cmath>

namespace vsd {

void cdist_forward_cpu(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
#pragma omp parallel for if (N * M * D > 65536)
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < M; j++) {
            double s = 0.0;
            for (int64_t d = 0; d < D; d++) {
                double t = (double)a[i * D + d] - b[j * D + d];
                s += t * t;
            }
            out[i * M + j] = (float)std::sqrt(s);
        }
}

void cdist_backward_cpu(float* da, float* db, const float* dout, const float* out, const float* a, const float* b,
                        int64_t N, int64_t M, int64_t D) {
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < M; j++) {
            float dist = out[i * M + j];
            if (dist == 0.0f) continue;  // the gradient of ||.|| at 0 is taken as 0 (PyTorch does too)
            float g = dout[i * M + j] / dist;
            for (int64_t d = 0; d < D; d++) {
                float diff = a[i * D + d] - b[j * D + d];
                if (da) da[i * D + d] += g * diff;
                if (db) db[j * D + d] -= g * diff;
            }
        }
}

}  // namespace vsd
