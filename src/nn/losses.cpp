// losses.cpp — VSE++ hinge and the distance-weighted triplet loss.
#include "losses.h"

#include <cmath>


namespace vsd {

Tensor contrastive_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, float margin,
                        bool max_violation, bool mask_repeat) {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape(), "contrastive_loss: V %s and T %s must be the same (B, E)",
           V.shape_str().c_str(), T.shape_str().c_str());
    const int64_t B = V.size(0);
    ENSURE((int64_t)img_ids.size() == B, "contrastive_loss: %zu image ids for a batch of %lld", img_ids.size(), (long long)B);
    Tensor S = matmul(V, T, false, true);                 // (B, B)
    const Tensor ids = Tensor::from_i64({B}, img_ids).to(S.device());
    Tensor diag_col = sum(S * same_id_mask(ids, false), 1, true);  // (B, 1): S[i,i]
    Tensor diag_row = reshape(diag_col, {1, B});                    // (1, B): S[j,j]
    Tensor mask = same_id_mask(ids, mask_repeat);
    Tensor cost_s = masked_fill(relu(S - diag_col + margin), mask, 0.0f);   // image i vs wrong captions
    Tensor cost_im = masked_fill(relu(S - diag_row + margin), mask, 0.0f);  // caption j vs wrong images
    if (max_violation) return sum(max(cost_s, 1).first) + sum(max(cost_im, 0).first);
    return sum(cost_s) + sum(cost_im);
}

Tensor infonce_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, const Tensor& logit_scale) {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape(), "infonce_loss: V %s and T %s must be the same (B, E)",
           V.shape_str().c_str(), T.shape_str().c_str());
    const int64_t B = V.size(0);
    ENSURE((int64_t)img_ids.size() == B, "infonce_loss: %zu image ids for a batch of %lld", img_ids.size(), (long long)B);
    const Tensor ids = Tensor::from_i64({B}, img_ids).to(V.device());
    const Tensor eye = same_id_mask(ids, false);              // (B, B): the targets
    const Tensor keep = 1.0f - same_id_mask(ids, true) + eye;  // other pairs of the same image: out
    // the scale: exp(s), s clamped at ln 100 as CLIP does (the gradient stops there)
    const Tensor logits = matmul(V, T, false, true) * exp(clamp(logit_scale, -1e30f, std::log(100.0f)));
    const Tensor i2t = log_softmax(logits, keep), t2i = log_softmax(transpose(logits, 0, 1), transpose(keep, 0, 1));
    // each row's log-probability of its own pair (the masked entries are -inf: filled, not multiplied)
    const Tensor off = 1.0f - eye;
    return (sum(masked_fill(i2t, off, 0.0f)) + sum(masked_fill(t2i, off, 0.0f))) * (-0.5f / (float)B);
}

// One direction: rows of S are anchors. Returns the summed hinge over all positive pairs, each
// against one negative drawn by its distance weight (kernels/triplet_sampler.h).
static Tensor triplet_direction(const Tensor& S, const std::vector<int64_t>& ids, const TripletOptions& opt, Rng& rng,
                                TripletStats* st, const std::vector<int64_t>* recorded) {
    TripletSampling how;
    how.dim = opt.dim;
    how.min_dist = opt.min_dist;
    how.cutoff = opt.cutoff;
    how.all_or_nothing = opt.reference_skip;  // torch.multinomial throws on an all-zero row: the reference returns 0
    how.recorded = recorded;
    TripletDraw d = triplet_negatives(S, ids, how, rng);
    if (st) {
        st->zeroed_directions += d.zeroed;
        st->skipped_anchors += d.skipped;
        st->pairs += d.pos.defined() ? d.pos.numel() : 0;
    }
    if (d.zeroed || d.pos.numel() == 0) return sum(S) * 0.0f;
    Tensor flat = reshape(S, {S.numel()});
    Tensor s_ap = index_select(flat, 0, d.pos);  // S[a, p]
    Tensor s_an = index_select(flat, 0, d.neg);  // S[a, n]
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
