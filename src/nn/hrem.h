// hrem.h — HREM (Fu et al., "Learning Semantic Relationship among Instances for Image-Text
// Matching", CVPR 2023): fragment-level relations in the encoders (paper-notes §2.4) and the training-only
// instance-level relation module (paper-notes §2.5).
// B batch, R regions, L tokens, E embedding size (1024), K top-k of the relevance MLPs (10).
#pragma once
#include <memory>

#include "encoders.h"
#include "transformer.h"

namespace vsd {

struct HremConfig {
    int64_t embed = 1024, heads = 16, ffn = 1024;
    float dropout = 0.1f;
    float residual_weight = 0.8f;  // v = l2n(0.8 maxk + 0.2 attention)
    int64_t maxk = 2;
    bool maxk_reference = false;   // reproduce the reference's shared-k quirk (see maxk_pool)
};

// Per-dimension mean of the k largest values over each sample's first lengths[b] items.
// x (B, N, D) -> (B, D). Intended behaviour (ours): k_b = min(k, lengths[b]) per sample.
// reference_quirk: the reference reassigns k = min(k, len) inside its loop over the batch, so once
// one sample is shorter than k every later sample also uses the smaller k.
Tensor maxk_pool(const Tensor& x, const Tensor& lengths, int64_t k, bool reference_quirk = false);
// Mean over each sample's first lengths[b] items: (B, N, D) -> (B, D)
Tensor masked_mean(const Tensor& x, const Tensor& lengths);

// The shared tail of both HREM encoders: fragments (B, N, E) -> l2n(0.8 maxk + 0.2 mean(transformer)).
class HremPool : public Module {
public:
    HremPool(const HremConfig& c, Rng& rng);
    Tensor forward(const Tensor& frag, const Tensor& lengths, Rng* drop);
    HremConfig cfg;
    TransformerEncoderLayer layer;  // name: layers.0 (nn.TransformerEncoder's layout)
};

// Image side (paper-notes §2.4): phi = fc(x) + mlp(x); fc and the MLP's Linear layers xavier_uniform with
// bias 0, the Transformer layer PyTorch's default initialisation (as HREM's init_weights).
class ImageEncoderHREM : public Module {
public:
    ImageEncoderHREM(int64_t img_dim, const HremConfig& c, Rng& rng);
    // fragments (optional out): phi (B, R, E) before pooling, used by the relation module
    Tensor forward(const Tensor& images, const Tensor& lengths, Rng* drop, Tensor* fragments = nullptr);
    Linear fc;
    MLP2 mlp;
    HremPool aggr;
};

// Text side: psi = Linear(hidden -> E)(BERT last hidden) (default init), or the BiGRU's averaged
// directions (GPO's BiGRU front, E wide), then the same pooling.
class TextEncoderHREM : public Module {
public:
    TextEncoderHREM(const std::string& text_encoder, const BertConfig& bc, int64_t vocab, int64_t word_dim,
                    const HremConfig& c, Rng& rng);
    Tensor forward(const Tensor& tokens, const Tensor& lengths, Rng* drop, Tensor* fragments = nullptr);
    std::unique_ptr<Bert> bert;        // bert
    std::unique_ptr<Linear> linear;    // bert
    std::unique_ptr<Embedding> embed;  // bigru
    std::unique_ptr<GRU> rnn;          // bigru
    HremPool aggr;
};

// ---- the instance-level relation module (training only) ----------------------------------------

struct RelationOptions {
    float threshold = 0.5f;     // connections: the top int(threshold * B) of each row
    int topk = 10;              // K of the cross-modal statistics
    float sigma = 1.0f;         // intra-modal relevance exp(-||a - b|| / sigma)
    float mask_weight = 1.0f;   // scales the relevance in the graph's attention mask (1.0 f30k, 1.5 coco)
    float leaky_slope = 0.1f;
    bool cross_connections = false;  // C_ii, C_tt from V T^T, T V^T (HREM's first release) instead of V V^T, T T^T
};

struct RelationOut {
    Tensor Vg, Tg;                 // graph-refined embeddings (B, E), unit norm
    Tensor reg;                    // KL(S, Rel_i2t) + KL(S^T, Rel_t2i), a scalar
    // intermediates, for tests and inspection (the graph's are (2B, 2B), images first)
    Tensor C, Rel;                 // connections (0/1) and relevances
    Tensor mean_t2i, topk_t2i, mean_i2t, topk_i2t, rel_t2i, rel_i2t;
};

class RelationModule : public Module {
public:
    RelationModule(const HremConfig& c, const RelationOptions& o, Rng& rng);
    // V, T (B, E): the (fused) embeddings; phi (B, R, E), psi (B, L, E): encoder fragments
    // (detached here); img_len, cap_len (B,). drop: dropout masks of the graph layer (null: none).
    RelationOut forward(const Tensor& V, const Tensor& T, const Tensor& phi, const Tensor& psi, const Tensor& img_len,
                        const Tensor& cap_len, Rng* drop);
    RelationOptions opt;
    TransformerEncoderLayer gnn;    // name gnn.layers.0
    Linear t2i_0, t2i_3, i2t_0, i2t_3;  // the two relevance MLPs, Linear(K, K) ReLU Dropout(0) Linear(K, 1)
};

// PyTorch's kl_div(log_softmax(a), softmax(b), reduction='batchmean'): sum softmax(b) (log softmax(b)
// - log softmax(a)) / rows, over the last dim.
Tensor kl_batchmean(const Tensor& a, const Tensor& b);

}  // namespace vsd
