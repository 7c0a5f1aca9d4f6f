// losses.cpp — VSE++ hinge and the distance-weighted triplet loss.
#include "losses.h"

#include <cmath>
#include <limits>

namespace vsd {

static Tensor same_image_mask(const std::vector<int64_t>& ids, bool repeat) {
    const int64_t B = (int64_t)ids.size();
    Tensor m = Tensor::zeros({B, B});
    for (int64_t i = 0; i < B; i++)
        for (int64_t j = 0; j < B; j++) m.data()[i * B + j] = (i == j || (repeat && ids[i] == ids[j])) ? 1.0f : 0.0f;
    return m;
}

Tensor contrastive_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, float margin,
                        bool max_violation, bool mask_repeat) {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape(), "contrastive_loss: V %s and T %s must be the same (B, E)",
           V.shape_str().c_str(), T.shape_str().c_str());
    const int64_t B = V.size(0);
    ENSURE((int64_t)img_ids.size() == B, "contrastive_loss: %zu image ids for a batch of %lld", img_ids.size(), (long long)B);
    Tensor S = matmul(V, T, false, true);                 // (B, B)
    Tensor eye = same_image_mask(std::vector<int64_t>(B, -1), false);
    for (int64_t i = 0; i < B; i++) eye.data()[i * B + i] = 1.0f;
    Tensor diag_col = sum(S * eye.to(S.device()), 1, true);              // (B, 1): S[i,i]
    Tensor diag_row = reshape(diag_col, {1, B});          // (1, B): S[j,j]
    Tensor mask = same_image_mask(img_ids, mask_repeat);
    Tensor cost_s = masked_fill(relu(S - diag_col + margin), mask, 0.0f);   // image i vs wrong captions
    Tensor cost_im = masked_fill(relu(S - diag_row + margin), mask, 0.0f);  // caption j vs wrong images
    if (max_violation) return sum(max(cost_s, 1).first) + sum(max(cost_im, 0).first);
    return sum(cost_s) + sum(cost_im);
}

std::vector<double> triplet_weights(const std::vector<float>& S, int64_t B, const std::vector<int64_t>& ids,
                                    const TripletOptions& opt) {
    // paper-notes §3.2, row by row (a = anchor):
    //   D = sqrt(2 - 2S) clamped to >= 0.5;  log w = (2 - n) ln D - ((n - 3)/2) ln(1 - D^2/4)
    //   log w = 0 at positives and where it is inf/NaN;  w = exp(log w - rowmax(log w))
    //   w *= [negative and D < cutoff];  w /= (sum w + 1e-20)
    const double n = opt.dim;
    std::vector<double> w(B * B);
    for (int64_t a = 0; a < B; a++) {
        std::vector<double> lw(B);
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < B; j++) {
            double d = std::sqrt(2.0 - 2.0 * (double)S[a * B + j]);  // NaN when S > 1 from rounding
            if (!(d >= opt.min_dist) && !std::isnan(d)) d = opt.min_dist;
            double v = (2.0 - n) * std::log(d) - ((n - 3.0) / 2.0) * std::log(1.0 - 0.25 * d * d);
            bool pos = ids[a] == ids[j];
            if (pos || std::isinf(v) || std::isnan(v)) v = 0.0;
            lw[j] = v;
            mx = std::max(mx, v);
        }
        double total = 0.0;
        for (int64_t j = 0; j < B; j++) {
            double d = std::sqrt(2.0 - 2.0 * (double)S[a * B + j]);
            if (!(d >= opt.min_dist) && !std::isnan(d)) d = opt.min_dist;
            bool valid = ids[a] != ids[j] && d < opt.cutoff;  // NaN distance compares false: not valid
            double v = valid ? std::exp(lw[j] - mx) : 0.0;
            w[a * B + j] = v;
            total += v;
        }
        for (int64_t j = 0; j < B; j++) w[a * B + j] /= (total + 1e-20);
    }
    return w;
}

// One direction: rows of S are anchors. Returns the summed hinge over all positive pairs.
static Tensor triplet_direction(const Tensor& S, const std::vector<int64_t>& ids, const TripletOptions& opt, Rng& rng,
                                TripletStats* st, const std::vector<int64_t>* recorded) {
    const int64_t B = S.size(0);
    std::vector<float> sv = S.to_vector();
    std::vector<double> w = triplet_weights(sv, B, ids, opt);
    std::vector<bool> anchor_ok(B);
    bool any_empty = false;
    for (int64_t a = 0; a < B; a++) {
        double t = 0;
        for (int64_t j = 0; j < B; j++) t += w[a * B + j];
        anchor_ok[a] = t > 0;
        any_empty = any_empty || !anchor_ok[a];
    }
    if (any_empty && opt.reference_skip) {  // torch.multinomial throws: the reference returns 0
        if (st) st->zeroed_directions++;
        return sum(S) * 0.0f;
    }
    // for every positive pair (a, p): one negative n ~ Categorical(w[a])
    std::vector<int64_t> ap, an;  // flat indices a*B+p and a*B+n
    for (int64_t a = 0; a < B; a++) {
        if (!anchor_ok[a]) {
            if (st) st->skipped_anchors++;
            continue;
        }
        for (int64_t p = 0; p < B; p++) {
            if (ids[a] != ids[p]) continue;
            int64_t neg = -1;
            if (recorded) {
                const size_t at = ap.size();
                ENSURE(at < recorded->size(), "triplet_loss: %zu recorded negatives, fewer than the positive pairs",
                       recorded->size());
                neg = (*recorded)[at];
                ENSURE(neg >= 0 && neg < B && w[a * B + neg] > 0, "triplet_loss: recorded negative %lld of anchor %lld has "
                       "weight 0 here (the runs have diverged)", (long long)neg, (long long)a);
            } else {
                double u = rng.uniform_double(), c = 0.0;
                for (int64_t j = 0; j < B; j++) {
                    if (w[a * B + j] <= 0) continue;
                    c += w[a * B + j];
                    neg = j;
                    if (u < c) break;
                }
            }
            ap.push_back(a * B + p);
            an.push_back(a * B + neg);
        }
    }
    if (st) st->pairs += (int64_t)ap.size();
    if (ap.empty()) return sum(S) * 0.0f;
    Tensor flat = reshape(S, {B * B});
    const int64_t P = (int64_t)ap.size();
    Tensor s_ap = index_select(flat, 0, Tensor::from_i64({P}, ap));
    Tensor s_an = index_select(flat, 0, Tensor::from_i64({P}, an));
    return sum(relu(s_an - s_ap + opt.margin));
}

Tensor triplet_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, const TripletOptions& opt,
                    Rng& rng, TripletStats* stats) {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape(), "triplet_loss: V %s and T %s must be the same (B, E)",
           V.shape_str().c_str(), T.shape_str().c_str());
    ENSURE((int64_t)img_ids.size() == V.size(0), "triplet_loss: %zu image ids for a batch of %lld", img_ids.size(),
           (long long)V.size(0));
    Tensor S = matmul(V, T, false, true);
    Tensor l_im = triplet_direction(S, img_ids, opt, rng, stats, opt.recorded[0]);                // images as anchors
    Tensor l_s = triplet_direction(transpose(S, 0, 1), img_ids, opt, rng, stats, opt.recorded[1]);  // captions as anchors
    return l_im + l_s;
}

}  // namespace vsd
