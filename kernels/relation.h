// relation.h — HREM's cross-modal relevance statistics (paper-notes §2.5 step 3, "AdjacencyLearning").
//
// For every (caption t, image i) pair of a batch, from unit-norm word features psi_hat (Bt, L, E)
// and unit-norm region features phi_hat (Bi, R, E) (zero rows for padding):
//   W_t = min(max(L_t, K), L) words (the reference takes max(L_t, 10), padding words included)
//   a[w, r]  = LeakyReLU_slope(<psi_hat[t, w], phi_hat[i, r]>)              w < W_t, r < R
//   t2i: A1 = a / (||a[:, r]||_words + eps)         row[w] = max_r A1[w, r]
//        mean_t2i[t, i] = mean(row[0:L_t]);         topk_t2i[t, i, :] = the K largest of row[0:W_t]
//   i2t: A2 = a / (||a[w, :]||_regions + eps)       col[r] = max_{w < L_t} A2[w, r]
//        mean_i2t[i, t] = mean(col[0:R]) (all R slots, padding included, as img_len_use=False)
//        topk_i2t[i, t, :] = the K largest of col[0:R]
// Top-k lists are in descending order; when fewer than K values exist (a batch whose padded width
// is below K, where the reference would fail) the list is completed with zeros.
// The inputs are detached in HREM, so this is forward-only: it has no backward and no gradcheck.
// Work: Bt*Bi*W*R*E multiply-adds (~2.4e10 FLOP at B = 128, W ~ 20, R = 36): the 4-D tensor
// a[t, i, w, r] is never materialised (B=128: 128*128*20*36 floats = 47 MB per step).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

constexpr int kRelationMaxK = 16;  // largest supported top-k (HREM uses 10)

// dots: optional precomputed <psi_hat, phi_hat> for every word and region, row-major
// (Bt*L, Bi*R) (a GEMM); null computes each dot product in the loop (the plain reference).
void region_word_stats_cpu(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t, const float* psi_hat,
                           const float* phi_hat, const int64_t* cap_len, int64_t Bt, int64_t L, int64_t Bi, int64_t R,
                           int64_t E, int K, float slope, float eps, const float* dots = nullptr);

// the CUDA versions
VSD_LAUNCHERS(
    // fused, forward only
    void region_word_stats(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t, const float* psi_hat,
                           const float* phi_hat, const int64_t* cap_len, int64_t Bt, int64_t L, int64_t Bi, int64_t R,
                           int64_t E, int K, float slope, float eps);
)

}  // namespace vsd
