// sinkhorn.cpp — Sinkhorn-Knopp codes as plain loops, in double (kernels/sinkhorn.h).
#include "sinkhorn.h"

#include <cmath>

namespace vsd {

void sinkhorn_cpu(float* q, double* Q, const float* S, int64_t B, int64_t K, double eps, int iterations) {
    double total = 0;
    for (int64_t k = 0; k < K; k++)
        for (int64_t b = 0; b < B; b++) total += Q[k * B + b] = std::exp((double)S[b * K + k] / eps);
    for (int64_t i = 0; i < K * B; i++) Q[i] /= total;
    for (int it = 0; it < iterations; it++) {
        for (int64_t k = 0; k < K; k++) {  // each prototype gets total mass 1/K
            double r = 0;
            for (int64_t b = 0; b < B; b++) r += Q[k * B + b];
            for (int64_t b = 0; b < B; b++) Q[k * B + b] /= r * K;
        }
        for (int64_t b = 0; b < B; b++) {  // each sample gets total mass 1/B
            double c = 0;
            for (int64_t k = 0; k < K; k++) c += Q[k * B + b];
            for (int64_t k = 0; k < K; k++) Q[k * B + b] /= c * B;
        }
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < K; k++) q[b * K + k] = (float)(Q[k * B + b] * B);
}

}  // namespace vsd
