// attention.cpp — CPU reference of the fused attention (attention.h): plain loops.
#include "attention.h"

#include <cmath>
#include <vector>

namespace vsd {

void attention_forward_cpu(float* out, const float* q, const float* k, const float* v, const float* keep, int64_t B,
                           int64_t L, int64_t A, int64_t d, float scale) {
    const int64_t H = A * d;
#pragma omp parallel for collapse(3)
    for (int64_t b = 0; b < B; b++)
        for (int64_t a = 0; a < A; a++)
            for (int64_t i = 0; i < L; i++) {
                // 1. scores of query i against every visible key, and their max
                std::vector<float> p(L);
                float m = -INFINITY;
                for (int64_t t = 0; t < L; t++) {
                    if (keep && keep[b * L + t] == 0.0f) { p[t] = -INFINITY; continue; }
                    float s = 0.0f;
                    for (int64_t j = 0; j < d; j++) s += q[(b * L + i) * H + a * d + j] * k[(b * L + t) * H + a * d + j];
                    p[t] = s * scale;
                    m = std::max(m, p[t]);
                }
                float* o = out + (b * L + i) * H + a * d;
                if (m == -INFINITY) {  // no visible key
                    for (int64_t j = 0; j < d; j++) o[j] = 0.0f;
                    continue;
                }
                // 2. softmax weights, 3. the weighted sum of the values
                float z = 0.0f;
                for (int64_t t = 0; t < L; t++) z += p[t] = p[t] == -INFINITY ? 0.0f : std::exp(p[t] - m);
                for (int64_t j = 0; j < d; j++) {
                    float acc = 0.0f;
                    for (int64_t t = 0; t < L; t++) acc += p[t] * v[(b * L + t) * H + a * d + j];
                    o[j] = acc / z;
                }
            }
}

void key_prefix_lengths_cpu(int32_t* len, const float* keep, int64_t B, int64_t L) {
    for (int64_t b = 0; b < B; b++) {
        const float* kb = keep + b * L;
        int64_t n = 0;
        while (n < L && kb[n] != 0.0f) n++;  // the run of visible keys from the start
        bool prefix = n >= 1;
        for (int64_t t = n; t < L; t++) prefix = prefix && kb[t] == 0.0f;  // and nothing visible after it
        len[b] = prefix ? (int32_t)n : -1;
    }
}

}  // namespace vsd
