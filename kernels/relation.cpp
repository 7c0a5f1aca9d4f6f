// relation.cpp — CPU reference of HREM's region-word statistics (see relation.h for the maths).
#include "relation.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vsd {

// The K largest of v[0:n] in descending order into out[0:K], zero-filled past n.
static void top_k_desc(float* out, std::vector<float> v, int K) {
    std::sort(v.begin(), v.end(), [](float a, float b) { return a > b; });
    for (int j = 0; j < K; j++) out[j] = j < (int)v.size() ? v[j] : 0.0f;
}

void region_word_stats_cpu(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t, const float* psi_hat,
                           const float* phi_hat, const int64_t* cap_len, int64_t Bt, int64_t L, int64_t Bi, int64_t R,
                           int64_t E, int K, float slope, float eps, const float* dots) {
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
    for (int64_t t = 0; t < Bt; t++)
        for (int64_t i = 0; i < Bi; i++) {
            const int64_t Lt = std::min<int64_t>(std::max<int64_t>(cap_len[t], 1), L);  // real words
            const int64_t W = std::min<int64_t>(std::max<int64_t>(Lt, K), L);           // words used
            // 1. a[w, r] = LeakyReLU(<word w of caption t, region r of image i>)
            std::vector<float> a(W * R);
            for (int64_t w = 0; w < W; w++)
                for (int64_t r = 0; r < R; r++) {
                    float s;
                    if (dots) {
                        s = dots[(t * L + w) * (Bi * R) + i * R + r];
                    } else {
                        s = 0.0f;
                        for (int64_t e = 0; e < E; e++) s += psi_hat[(t * L + w) * E + e] * phi_hat[(i * R + r) * E + e];
                    }
                    a[w * R + r] = s > 0.0f ? s : slope * s;
                }
            // 2. the two normalisers: over words for each region, over regions for each word
            std::vector<float> cn(R, 0.0f), rn(W, 0.0f);
            for (int64_t w = 0; w < W; w++)
                for (int64_t r = 0; r < R; r++) {
                    cn[r] += a[w * R + r] * a[w * R + r];
                    rn[w] += a[w * R + r] * a[w * R + r];
                }
            for (float& x : cn) x = std::sqrt(x) + eps;
            for (float& x : rn) x = std::sqrt(x) + eps;
            // 3. t2i: each word's best region (A1), averaged over the real words, and its top K
            std::vector<float> row(W);
            for (int64_t w = 0; w < W; w++) {
                float m = -INFINITY;
                for (int64_t r = 0; r < R; r++) m = std::max(m, a[w * R + r] / cn[r]);
                row[w] = m;
            }
            double s = 0.0;
            for (int64_t w = 0; w < Lt; w++) s += row[w];
            mean_t2i[t * Bi + i] = (float)(s / Lt);
            top_k_desc(topk_t2i + (t * Bi + i) * K, row, K);
            // 4. i2t: each region's best real word (A2), averaged over all R slots, and its top K
            std::vector<float> col(R);
            for (int64_t r = 0; r < R; r++) {
                float m = -INFINITY;
                for (int64_t w = 0; w < Lt; w++) m = std::max(m, a[w * R + r] / rn[w]);
                col[r] = m;
            }
            s = 0.0;
            for (int64_t r = 0; r < R; r++) s += col[r];
            mean_i2t[i * Bt + t] = (float)(s / R);
            top_k_desc(topk_i2t + (i * Bt + t) * K, col, K);
        }
}

}  // namespace vsd
