// attention.cpp — CPU reference of the fused attention (attention.h): plain loops.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "elementwise_ops.h"  // dropout_scale

namespace vsd {

void attention_forward_cpu(float* out, const float* q, const float* k, const float* v, const float* keep, int64_t B,
                           int64_t L, int64_t A, int64_t d, float scale, float* P, float p, uint64_t seed) {
    const int64_t H = A * d;
#pragma omp parallel for collapse(3)
    for (int64_t b = 0; b < B; b++)
        for (int64_t a = 0; a < A; a++)
            for (int64_t i = 0; i < L; i++) {
                // 1. scores of query i against every visible key, and their max
                std::vector<float> s(L);
                float m = -INFINITY;
                for (int64_t t = 0; t < L; t++) {
                    if (keep && keep[b * L + t] == 0.0f) { s[t] = -INFINITY; continue; }
                    float acc = 0.0f;
                    for (int64_t j = 0; j < d; j++) acc += q[(b * L + i) * H + a * d + j] * k[(b * L + t) * H + a * d + j];
                    s[t] = acc * scale;
                    m = std::max(m, s[t]);
                }
                // 2. the probabilities (all 0 when no key is visible), kept for the backward
                float z = 0.0f;
                for (int64_t t = 0; t < L; t++) z += s[t] = s[t] == -INFINITY ? 0.0f : std::exp(s[t] - m);
                const int64_t row = ((b * A + a) * L + i) * L;  // P's row (b, a, i)
                for (int64_t t = 0; t < L; t++) {
                    s[t] = m == -INFINITY ? 0.0f : s[t] / z;
                    if (P) P[row + t] = s[t];
                }
                // 3. the weighted sum of the values, through dropout's mask
                if (p > 0.0f)
                    for (int64_t t = 0; t < L; t++) s[t] *= dropout_scale(seed, row + t, p);
                float* o = out + (b * L + i) * H + a * d;
                for (int64_t j = 0; j < d; j++) {
                    float acc = 0.0f;
                    for (int64_t t = 0; t < L; t++) acc += s[t] * v[(b * L + t) * H + a * d + j];
                    o[j] = acc;
                }
            }
}

void attention_backward_cpu(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                            const float* v, const float* P, float* dS, int64_t B, int64_t L, int64_t A, int64_t d,
                            float scale, float p, uint64_t seed) {
    const int64_t H = A * d;
    auto at = [&](int64_t b, int64_t t, int64_t a) { return (b * L + t) * H + a * d; };  // row t of head a
    auto drop = [&](int64_t e) { return p > 0.0f ? dropout_scale(seed, e, p) : 1.0f; };
#pragma omp parallel for collapse(2)
    for (int64_t b = 0; b < B; b++)
        for (int64_t a = 0; a < A; a++) {
            const float* Pa = P + (b * A + a) * L * L;
            float* S = dS + (b * A + a) * L * L;
            // 1. per query row: dP = <dout_i, v_t> m, then softmax's backward into dS
            for (int64_t i = 0; i < L; i++) {
                float dot = 0.0f;  // sum_t P dP
                for (int64_t t = 0; t < L; t++) {
                    float g = 0.0f;
                    for (int64_t j = 0; j < d; j++) g += dout[at(b, i, a) + j] * v[at(b, t, a) + j];
                    S[i * L + t] = g * drop((b * A + a) * L * L + i * L + t);
                    dot += Pa[i * L + t] * S[i * L + t];
                }
                for (int64_t t = 0; t < L; t++) S[i * L + t] = Pa[i * L + t] * (S[i * L + t] - dot);
            }
            // 2. dq (rows of dS times k), dk (columns of dS times q), dv (columns of P m times dout)
            for (int64_t i = 0; i < L; i++)
                for (int64_t j = 0; j < d; j++) {
                    float gq = 0.0f, gk = 0.0f, gv = 0.0f;
                    for (int64_t u = 0; u < L; u++) {
                        gq += S[i * L + u] * k[at(b, u, a) + j];
                        gk += S[u * L + i] * q[at(b, u, a) + j];
                        gv += Pa[u * L + i] * drop((b * A + a) * L * L + u * L + i) * dout[at(b, u, a) + j];
                    }
                    if (dq) dq[at(b, i, a) + j] += scale * gq;
                    if (dk) dk[at(b, i, a) + j] += scale * gk;
                    if (dv) dv[at(b, i, a) + j] += gv;
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
