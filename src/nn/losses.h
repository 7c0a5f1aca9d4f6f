// losses.h — the matching losses of GPO, HREM and VSD (paper-notes §3.1, 3.2).
// V (B, E) image embeddings, T (B, E) caption embeddings, both unit-norm; S = V T^T (B x B);
// img_ids[b] is the image of batch row b (repeated images are positives, never negatives).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/rng.h"
#include "../ops/ops.h"

namespace vsd {

// VSE++ hinge (Faghri et al. 2018), paper-notes §3.1:
//   c_s[i,j] = [m + S[i,j] - S[i,i]]_+ ,  c_im[i,j] = [m + S[i,j] - S[j,j]]_+ , pairs of the same
//   image zeroed (mask_repeat; only the diagonal when false, as vse_infty)
//   sum:            L = sum c_s + sum c_im
//   max_violation:  L = sum_i max_j c_s[i,j] + sum_j max_i c_im[i,j]
Tensor contrastive_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, float margin,
                        bool max_violation, bool mask_repeat = true);

// CLIP's symmetric InfoNCE (Radford et al. 2021): logits = exp(min(s, ln 100)) V T^T, s = logit_scale
// (a trainable scalar); the mean of the two cross-entropies, images over captions and captions over
// images, each row's target its own pair. Other pairs of the same image (img_ids) are positives too,
// so they are left out of both softmaxes rather than pushed apart.
Tensor infonce_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, const Tensor& logit_scale);

// Distance-weighted triplet (Wu et al. 2017, as HREM/VSD use it), paper-notes §3.2.
struct TripletOptions {
    float margin = 0.2f;
    float cutoff = 1.7f;          // nonzero_loss_cutoff: 1.7 f30k, 1.9 coco
    float min_dist = 0.5f;        // distances are clamped to at least this
    int dim = 512;                // n in the weight formula (hard-coded 512 in the reference)
    bool reference_skip = false;  // reference: an anchor without any valid negative zeroes the whole
                                  // direction; ours (default): skip just that anchor
    // the negatives another run sampled (images as anchors, captions as anchors), one per positive pair
    // in row-major (anchor, positive) order, instead of drawing them (the trajectory replay)
    const std::vector<int64_t>* recorded[2] = {nullptr, nullptr};
};
struct TripletStats {
    int64_t pairs = 0;             // positive pairs that got a negative
    int64_t skipped_anchors = 0;   // anchors without a valid negative (ours: skipped)
    int zeroed_directions = 0;     // directions zeroed (reference behaviour only)
};
Tensor triplet_loss(const Tensor& V, const Tensor& T, const std::vector<int64_t>& img_ids, const TripletOptions& opt,
                    Rng& rng, TripletStats* stats = nullptr);

}  // namespace vsd
