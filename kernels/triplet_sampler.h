// triplet_sampler.h — distance-weighted negative sampling (Wu et al. 2017, as HREM and VSD use it),
// one direction at a time: the rows of S = V T^T are the anchors. paper-notes §3.2. CPU reference:
// triplet_sampler.cpp; CUDA: triplet_sampler.cu. Both run the per-anchor functions below, in double.
#pragma once
#include <math.h>

#include <cstdint>

#include "launch.h"

namespace vsd {

// Anchor a's sampling weights over the batch, w[j] (B), from its similarity row s[j] (B):
//   D_j    = sqrt(2 - 2 s_j), clamped to >= min_dist          (unit vectors: the chord length)
//   log w  = (2 - n) ln D - ((n - 3) / 2) ln(1 - D^2 / 4)      (1 / the density of distances on the
//                                                               n-sphere: rare distances weigh more)
//   log w  = 0 at positives (ids[j] == ids[a]) and where it is inf or NaN
//   w_j    = exp(log w_j - max_j log w) if j is a negative with D_j < cutoff, else 0
//   w     /= sum w + 1e-20
// Returns whether any weight is positive (the anchor has a negative to draw). A NaN distance (s
// above 1 by rounding) compares false with everything: weight 0, and min_dist does not apply.
VSD_HD bool triplet_row_weights(double* w, const float* s, const int64_t* ids, int64_t a, int64_t B, double n,
                                double min_dist, double cutoff) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < B; j++) {  // pass 1: the log-weights (held in w) and their maximum
        double d = sqrt(2.0 - 2.0 * (double)s[j]);
        if (!(d >= min_dist) && !isnan(d)) d = min_dist;
        double v = (2.0 - n) * log(d) - ((n - 3.0) / 2.0) * log(1.0 - 0.25 * d * d);
        if (ids[j] == ids[a] || !isfinite(v)) v = 0.0;
        w[j] = v;
        mx = v > mx ? v : mx;
    }
    double total = 0.0;
    for (int64_t j = 0; j < B; j++) {  // pass 2: the valid negatives' weights
        double d = sqrt(2.0 - 2.0 * (double)s[j]);
        if (!(d >= min_dist) && !isnan(d)) d = min_dist;
        const bool valid = ids[j] != ids[a] && d < cutoff;
        w[j] = valid ? exp(w[j] - mx) : 0.0;
        total += w[j];
    }
    for (int64_t j = 0; j < B; j++) w[j] /= (total + 1e-20);
    return total > 0;
}

// One draw from Categorical(w) by inverting its CDF at u in [0, 1): the first j (among those with
// w_j > 0) whose running sum exceeds u; the last such j when rounding leaves u above the total.
// -1 when no weight is positive.
VSD_HD int64_t triplet_draw(const double* w, int64_t B, double u) {
    int64_t pick = -1;
    double c = 0.0;
    for (int64_t j = 0; j < B; j++) {
        if (w[j] <= 0) continue;
        c += w[j];
        pick = j;
        if (u < c) break;
    }
    return pick;
}

// Anchor a's pair slots (see triplet_sample_cpu below): the draw, or the recorded negative, in each.
VSD_HD void triplet_sample_anchor(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first, const double* u,
                                  const int64_t* recorded, int64_t B, int64_t a) {
    if (first[a] < 0) return;  // no negative to draw: the anchor owns no slot
    int64_t q = first[a];
    for (int64_t p = 0; p < B; p++) {
        if (ids[p] != ids[a]) continue;
        int64_t n;
        if (recorded) n = (recorded[q] >= 0 && recorded[q] < B && w[a * B + recorded[q]] > 0) ? recorded[q] : -1;
        else n = triplet_draw(w + a * B, B, u[q]);
        neg[q++] = n < 0 ? -1 : a * B + n;
    }
}

// The whole batch, rows as anchors: w (B, B) double, ok[a] = 1 if anchor a has a negative, else 0.
void triplet_weights_cpu(double* w, int64_t* ok, const float* S, const int64_t* ids, int64_t B, double n,
                         double min_dist, double cutoff);

// The negatives of the positive pairs: anchor a with first[a] >= 0 owns pair slots first[a],
// first[a] + 1, ... for its positives p = those with ids[p] == ids[a], ascending. Slot q gets the
// flat index a*B + n of its negative n: drawn at u[q] (triplet_draw), or, when recorded is not
// null, recorded[q] if that is a negative of positive weight (else -1: the caller reports it).
void triplet_sample_cpu(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first, const double* u,
                        const int64_t* recorded, int64_t B);

// the CUDA versions (kernels/triplet_sampler.cu): one thread per anchor
VSD_LAUNCHERS(
    void triplet_weights(double* w, int64_t* ok, const float* S, const int64_t* ids, int64_t B, double n,
                         double min_dist, double cutoff);
    void triplet_sample(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first, const double* u,
                        const int64_t* recorded, int64_t B);
)

}  // namespace vsd
