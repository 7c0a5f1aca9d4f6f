// attention.cpp — CPU reference of the fused attention (attention.h): plain loops.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "elementwise_ops.h"  // dropout_scale

namespace vsd {

void attention_forward_cpu(float* out, const float* q, const float* k, const float* v, const float* keep, float* P,
                           const AttnArgs& g) {
    const int64_t B = g.B, L = g.L, A = g.A, d = g.d, H = A * d;
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
                    for (int64_t j = 0; j < d; j++)
                        acc += attn_read(q, g.bq, (b * L + i) * H, a * d + j) * attn_read(k, g.bk, (b * L + t) * H, a * d + j);
                    s[t] = acc * g.scale;
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
                if (g.p > 0.0f)
                    for (int64_t t = 0; t < L; t++) s[t] *= dropout_scale(g.seed, row + t, g.p);
                float* o = out + (b * L + i) * H + a * d;
                for (int64_t j = 0; j < d; j++) {
                    float acc = 0.0f;
                    for (int64_t t = 0; t < L; t++) acc += s[t] * attn_read(v, g.bv, (b * L + t) * H, a * d + j);
                    o[j] = acc;
                }
            }
}

void attention_backward_cpu(float* dq, float* dk, float* dv, bool accumulate, const float* dout, const float* q,
                            const float* k, const float* v, const float* P, float* dS, const AttnArgs& g) {
    const int64_t B = g.B, L = g.L, A = g.A, d = g.d, H = A * d;
    auto drop = [&](int64_t e) { return g.p > 0.0f ? dropout_scale(g.seed, e, g.p) : 1.0f; };
    auto put = [&](float* x, int64_t e, float val) {
        if (x) x[e] = accumulate ? x[e] + val : val;
    };
#pragma omp parallel for collapse(2)
    for (int64_t b = 0; b < B; b++)
        for (int64_t a = 0; a < A; a++) {
            const float* Pa = P + (b * A + a) * L * L;
            float* S = dS + (b * A + a) * L * L;
            // 1. per query row: dP = <dout_i, v_t> m, then softmax's backward into dS
            for (int64_t i = 0; i < L; i++) {
                float dot = 0.0f;  // sum_t P dP
                for (int64_t t = 0; t < L; t++) {
                    float gp = 0.0f;
                    for (int64_t j = 0; j < d; j++) gp += dout[(b * L + i) * H + a * d + j] * attn_read(v, g.bv, (b * L + t) * H, a * d + j);
                    S[i * L + t] = gp * drop((b * A + a) * L * L + i * L + t);
                    dot += Pa[i * L + t] * S[i * L + t];
                }
                for (int64_t t = 0; t < L; t++) S[i * L + t] = Pa[i * L + t] * (S[i * L + t] - dot);
            }
            // 2. dq (rows of dS times k), dk (columns of dS times q), dv (columns of P m times dout)
            for (int64_t i = 0; i < L; i++)
                for (int64_t j = 0; j < d; j++) {
                    float gq = 0.0f, gk = 0.0f, gv = 0.0f;
                    for (int64_t u = 0; u < L; u++) {
                        gq += S[i * L + u] * attn_read(k, g.bk, (b * L + u) * H, a * d + j);
                        gk += S[u * L + i] * attn_read(q, g.bq, (b * L + u) * H, a * d + j);
                        gv += Pa[u * L + i] * drop((b * A + a) * L * L + u * L + i) * dout[(b * L + u) * H + a * d + j];
                    }
                    const int64_t e = (b * L + i) * H + a * d + j;
                    put(dq, e, g.scale * gq);
                    put(dk, e, g.scale * gk);
                    put(dv, e, gv);
                }
        }
}

void attention_bias_grads_cpu(const AttnBiasGrads& t, int64_t rows, int64_t H) {
    for (int x = 0; x < 3; x++)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < H; j++) {
                const float gv = t.g[x][r * H + j];
                if (t.d[x]) t.d[x][r * H + j] += gv;
                if (t.db[x]) t.db[x][j] += gv;
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
