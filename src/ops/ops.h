// ops.h — every differentiable op: checks shapes, runs the kernel, records the backward.
//
// Conventions
//   * Inputs are never modified; each op returns a new tensor (views for reshape and narrow along
//     the first dim share the input's bytes).
//   * Negative dims count from the end. Shapes go up to 4 dims.
//   * Index tensors (I32 or I64) and masks (any dtype, nonzero = true) carry no gradient.
//   * A mismatch throws vsd::Error naming both shapes (see core/check.h).
//   * The CPU kernels live in kernels/; the CUDA backend dispatches on Tensor::is_cuda() here.
#pragma once
#include <utility>
#include <vector>

#include "../../kernels/backend.h"  // cudnn_enabled(): the layers that can hand work to cuDNN ask it
#include "../core/tape.h"
#include "../core/tensor.h"

namespace vsd {

// ---- linear algebra -------------------------------------------------------------------------
// 2-D: a (M, K) @ b (K, N). Batched: a (..., M, K) @ b (..., K, N) with equal leading dims, or b 2-D
// (shared by every batch). trans_a / trans_b use the transposed operand (a stored (..., K, M), ...).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// y = x W^T + b:   x (..., in), w (out, in), bias (out,) or undefined
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// ---- elementwise ----------------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);  // numpy broadcasting
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, float s);
Tensor mul_scalar(const Tensor& x, float s);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, float s) { return add_scalar(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add_scalar(a, -s); }
inline Tensor operator-(float s, const Tensor& a) { return add_scalar(mul_scalar(a, -1.0f), s); }
inline Tensor operator-(const Tensor& a) { return mul_scalar(a, -1.0f); }
inline Tensor operator*(const Tensor& a, float s) { return mul_scalar(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul_scalar(a, 1.0f / s); }

Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, float p);
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, float lo, float hi);  // gradient passes where lo <= x <= hi
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor gelu(const Tensor& x);                       // 0.5 x (1 + erf(x / sqrt 2)), as BERT
// A linear's bias fused with what follows it (kernels/bias_fused.h); z = linear(x, w) without its
// bias, b (n) over z's last dim. The same bits as the unfused ops on the CPU, in 2 launches.
Tensor bias_gelu(const Tensor& z, const Tensor& b);  // gelu(z + b)
// h + dropout(z + b), dropout p only when `drop` is given (one draw from it, as dropout())
Tensor bias_dropout_add(const Tensor& h, const Tensor& z, const Tensor& b, float p, Rng* drop);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor quick_gelu(const Tensor& x);                 // x sigmoid(1.702 x), OpenAI CLIP's GELU
Tensor cube(const Tensor& x);  // x^3: the worked example of adding an op (src/core/tape.h)

// ---- reductions -----------------------------------------------------------------------------
Tensor sum(const Tensor& x);                                  // all elements -> shape ()
Tensor sum(const Tensor& x, int dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int dim, bool keepdim = false);
// max along dim: values (differentiable; the gradient goes to the first maximum) and int64 indices
std::pair<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim = false);

// ---- neural-network layers ------------------------------------------------------------------
// over the last dim; mask (same shape, nonzero = keep) optional; see kernels/softmax.h for masked rows
Tensor softmax(const Tensor& x, const Tensor& mask = Tensor());
Tensor log_softmax(const Tensor& x, const Tensor& mask = Tensor());
Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps = 1e-5f);  // last dim
// x (N, C). In training uses batch statistics and updates running_mean/var (momentum 0.1 as
// PyTorch); in eval uses the running statistics. running_* are plain (C,) tensors, no grad.
Tensor batchnorm1d(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                   bool training, float momentum = 0.1f, float eps = 1e-5f);
Tensor dropout(const Tensor& x, float p, bool training, Rng& rng);  // inverted dropout: kept * 1/(1-p)
Tensor embedding(const Tensor& ids, const Tensor& table);           // ids (...) int -> (..., D)
Tensor l2norm(const Tensor& x, float eps = 1e-8f);                  // x / (||x|| + eps), last dim
Tensor unit_rows(const Tensor& x, double eps = 1e-12);  // F.normalize: x / max(||x||, eps), last dim, in double; no grad
// Fused multi-head attention: softmax(q k^T / sqrt(d)) v per head over the keys keep shows, with
// dropout p on the probabilities when `drop` is given (training; one draw from it).
// q, k, v (B, L, A*d), keep (B, L) 0/1 or undefined -> (B, L, A*d); see kernels/attention.h.
// bq, bk, bv (A*d; all three or none): the projections' biases, added as q, k, v are read (so
// q = linear(h, wq) can be a bare GEMM), with their gradients.
// The same maths as multi_head_attention (src/nn/layers.h) with a key mask, in 3-4 launches.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep, int64_t heads, float p = 0.0f,
                 Rng* drop = nullptr, const Tensor& bq = Tensor(), const Tensor& bk = Tensor(), const Tensor& bv = Tensor());
// The key lengths (B) for cuDNN's attention when every row of keep (B, L) shows a prefix of >= 1
// keys, else empty (kernels/attention.h). Only the B lengths cross to the host.
std::vector<int> key_prefix_lengths(const Tensor& keep);
// The same through cuDNN (--cudnn 1; a GPU only), with the projections inside the call:
// attention(linear(h, wq, bq), linear(h, wk, bk), linear(h, wv, bv)) over the keys t < key_len[b].
// h (B, L, E); key_len (B,) in [1, L]. Inference only. See kernels/cudnn.h.
Tensor attention_cudnn(const Tensor& h, const Tensor& wq, const Tensor& bq, const Tensor& wk, const Tensor& bk,
                       const Tensor& wv, const Tensor& bv, const std::vector<int>& key_len, int64_t heads);

// ---- shape ----------------------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);   // one -1 allowed; a view (no copy)
Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length);  // view when dim is leading
Tensor concat(const std::vector<Tensor>& xs, int dim);
Tensor permute(const Tensor& x, const std::vector<int>& perm);
Tensor transpose(const Tensor& x, int d0, int d1);
// images (B, C, H, W) -> non-overlapping p x p patches as rows (B, H/p * W/p, C p p), channel-major
// within a patch: a ViT's patch embedding is linear(patchify(x, p), conv_weight.reshape(out, C p p))
// (kernels/patchify.h)
Tensor patchify(const Tensor& x, int64_t p);

// ---- indexing -------------------------------------------------------------------------------
// masked_fill: where mask (broadcast to x's shape) is nonzero, the value; elsewhere x
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);
// where(cond, a, b): cond broadcast to a's shape; a and b have the same shape
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// gather along dim: index has x's shape except along dim; out[.., j, ..] = x[.., index[.., j, ..], ..]
Tensor gather(const Tensor& x, int dim, const Tensor& index);
// index_select along dim with a 1-D index
Tensor index_select(const Tensor& x, int dim, const Tensor& index);
// sort along dim: (values, int64 indices); stable; gradient scatters back through the indices
std::pair<Tensor, Tensor> sort(const Tensor& x, int dim = -1, bool descending = false);
// top-k along dim: the k largest (or smallest), in sorted order
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim = -1, bool largest = true);
// pairwise Euclidean distances: a (N, D), b (M, D) -> (N, M)
Tensor cdist(const Tensor& a, const Tensor& b);

// ---- recurrent ------------------------------------------------------------------------------
// One GRU direction over a padded batch (PyTorch gate order r, z, n; both biases): x (B, T, I),
// lengths (B,) int; sample b runs exactly lengths[b] steps (reverse: from its last real position).
// Returns (B, T, H) with zeros at padded positions. See kernels/gru.h.
Tensor gru(const Tensor& x, const Tensor& lengths, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
           const Tensor& b_hh, bool reverse);
// Both directions at once: w = {w_ih, w_hh, b_ih, b_hh} of the forward direction, then of the
// reverse one -> (2, B, T, H), [0] forward, [1] reverse; the same as two gru() calls, for the
// price of one on the device (kernels/gru.cu).
Tensor bigru(const Tensor& x, const Tensor& lengths, const std::vector<Tensor>& w);
// cuDNN's GRU layer (--cudnn 1; a GPU only): w = {w_ih, w_hh, b_ih, b_hh} for one direction, or 8
// tensors (forward, then reverse) for both in one call -> (B, T, dirs*H), the forward direction
// first. The same maths as gru(); lengths must be >= 1. See kernels/cudnn.h.
Tensor gru_cudnn(const Tensor& x, const Tensor& lengths, const std::vector<Tensor>& w);

// ---- HREM ---------------------------------------------------------------------------------
// The region-word statistics of HREM's relation module (the equations: kernels/relation.h), from
// unit-norm words psi_hat (Bt, L, E), regions phi_hat (Bi, R, E) and caption lengths (Bt,) int:
// mean_t2i (Bt, Bi), topk_t2i (Bt, Bi, K), mean_i2t (Bi, Bt), topk_i2t (Bi, Bt, K). Forward only.
struct RegionWordStats {
    Tensor mean_t2i, topk_t2i, mean_i2t, topk_i2t;
};
RegionWordStats region_word_stats(const Tensor& psi_hat, const Tensor& phi_hat, const Tensor& cap_len, int K, float slope);

// ---- masks ---------------------------------------------------------------------------------
// The padding mask of a batch: (B, N) float, 1 where position k < lengths[b] (lengths (B,) int),
// made on the lengths' device; no gradient.
Tensor length_mask(const Tensor& lengths, int64_t N);
// A causal mask (L, L) float: 1 where key j <= query i (CLIP's text transformer), made on `like`'s
// device; no gradient.
Tensor causal_mask(int64_t L, const Tensor& like);
// Averaging weights (B, N): 1/k[b] over the first k[b] = min(cap, max(lengths[b], 1)) positions,
// 0 beyond; running_min also caps k[b] by the k of every earlier sample (HREM's MaxK quirk,
// kernels/length_mask.h). Made on the lengths' device; no gradient.
Tensor length_weights(const Tensor& lengths, int64_t N, int64_t cap, bool running_min = false);
// GPO's position codes (B, N, P): sin/cos of k w_j for the positions k < lengths[b], 0 beyond
// (w_j = exp(-2j ln(10000) / P)); made on the lengths' device; no gradient.
Tensor positional_encoding(const Tensor& lengths, int64_t N, int64_t P);

// HREM's sparse connections (N, M): 1 at each row's k largest scores, ties with the k-th kept
// (k clamped to [1, M]); made on the scores' device; no gradient.
Tensor topk_mask(const Tensor& s, int64_t k);
// Pairs of a batch that share an id (B, B): 1 where i == j, or (with repeats) ids[i] == ids[j].
// ids (B,) int; made on the ids' device; no gradient. same_id_mask(ids, false) is the identity.
Tensor same_id_mask(const Tensor& ids, bool repeats);

// VSD's Sinkhorn-Knopp codes (B, K) of prototype scores (B, K): each sample's codes sum to 1 and
// each prototype gets an equal share (kernels/sinkhorn.h, paper-notes §3.4); in double, on the
// scores' device; no gradient.
Tensor sinkhorn_codes(const Tensor& scores, float eps, int iterations);

// ---- sampling -------------------------------------------------------------------------------
// Distance-weighted negatives for one direction of the triplet loss (kernels/triplet_sampler.h,
// paper-notes §3.2): the rows of S (B, B) are anchors, ids (B) their images. Every positive pair
// (a, p) of an anchor that has a negative gets one negative n ~ Categorical(w[a]); the uniforms
// come from rng on the host, one per pair in (a, p) order, so a seed draws the same on every device.
struct TripletSampling {
    double dim = 512, min_dist = 0.5, cutoff = 1.7;
    bool all_or_nothing = false;                  // an anchor without a negative: draw nothing at all
    const std::vector<int64_t>* recorded = nullptr;  // use these negatives (one per pair) instead of drawing
};
struct TripletDraw {
    Tensor pos, neg;       // (P,) int64 flat indices a*B + p and a*B + n into S, on S's device
    int64_t skipped = 0;   // anchors without a negative (they own no pair)
    bool zeroed = false;   // all_or_nothing, and some anchor had no negative: nothing was drawn
};
TripletDraw triplet_negatives(const Tensor& S, const std::vector<int64_t>& ids, const TripletSampling& o, Rng& rng);

// ---- helpers --------------------------------------------------------------------------------
// a float32 copy of any tensor (masks and index tensors become 0/1 or their values); no grad
Tensor to_float(const Tensor& x);

}  // namespace vsd
