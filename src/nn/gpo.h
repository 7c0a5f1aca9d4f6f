// gpo.h — GPO, the Generalized Pooling Operator.
// Chen et al., "Learning the Best Pooling Strategy for Visual Semantic Embedding", CVPR 2021, Sec. 3.3.
//
// Turns a variable-size set of features into one vector with learned, rank-based weights:
//   features (B, N, D), lengths (B,)  ->  pooled (B, D)
// B batch, N set size (regions or tokens), D feature dim, P pos-enc dim (32), H GRU hidden (32).
// The weights depend only on each sample's length, never on the feature values (paper-notes §2.1).
#pragma once
#include "layers.h"

namespace vsd {

struct GPOConfig {
    int64_t d_pe = 32;
    int64_t d_hidden = 32;
    float temperature = 0.1f;
};

class GPO : public Module {
public:
    explicit GPO(Rng& rng, GPOConfig cfg = {});
    Tensor forward(const Tensor& features, const Tensor& lengths);
    // the pooling weights of the last forward (B, N), for inspection
    Tensor last_weights;
    GPOConfig cfg;
    GRU gru;        // names: gru.weight_ih_l0, ... (bidirectional 32 -> 32)
    Linear linear;  // linear.weight (1, 32), no bias
};

}  // namespace vsd
