// prototypes.h — VSD's prototype-level alignment ("Visual Semantic Description Generation with
// MLLMs for Image-Text Matching", ICME 2025; paper-notes §2.7): a SwAV-style swapped prediction
// against fixed centroids of the descriptions' embeddings.
//
//   P (K, E): k-means centroids of the training descriptions, row-normalised, frozen
//   S_v = V P^T,  S_t = T P^T                                   (B, K) prototype scores
//   q_v = SK(S_v), q_t = SK(S_t)                                 Sinkhorn-Knopp codes, no gradient
//   L = -(1/B) sum_b sum_k [ q_t log softmax(S_v / tau) + q_v log softmax(S_t / tau) ]
// SK (eps 0.05, 3 iterations): Q = exp(S^T / eps) (K, B), Q /= sum Q; repeat: rows /= row sums,
// /= K; columns /= column sums, /= B; return (B Q)^T, whose rows sum to 1.
#pragma once
#include <string>

#include "../ops/ops.h"

namespace vsd {

struct ProtoOptions {
    float sk_epsilon = 0.05f;
    int sinkhorn_iterations = 3;
    float proto_temperature = 0.1f;
};

class Prototypes {
public:
    explicit Prototypes(const std::string& npy_path);  // (K, E) centroids, normalised on load
    explicit Prototypes(const Tensor& centroids);
    Tensor loss(const Tensor& V, const Tensor& T, const ProtoOptions& o = {}) const;
    mutable Tensor P;  // (K, E) unit rows, no gradient; moved to the embeddings' device on first use
    std::string source;
};

// The swapped-prediction loss for given (constant) codes qv, qt (B, K): the differentiable part.
Tensor swapped_prediction(const Tensor& V, const Tensor& T, const Tensor& P, const Tensor& qv, const Tensor& qt, float tau);
// The same from precomputed scores sv = V P^T, st = T P^T (what Prototypes::loss already has).
Tensor swapped_prediction_from_scores(const Tensor& sv, const Tensor& st, const Tensor& qv, const Tensor& qt, float tau);

}  // namespace vsd
