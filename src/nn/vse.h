// vse.h — the whole matching model: an image encoder and a text encoder that map into one space,
// under the reference's state-dict prefixes "img_enc." and "txt_enc.".
#pragma once
#include <memory>

#include "encoders.h"
#include "hrem.h"

namespace vsd {

struct ModelConfig {
    std::string model = "gpo";          // gpo or hrem
    std::string text_encoder = "bigru"; // bigru or bert
    int64_t img_dim = 2048, embed_size = 1024, word_dim = 300, vocab_size = 0;
    BertConfig bert;                    // text_encoder == bert
    HremConfig hrem;                    // model == hrem (its embed is embed_size)
    RelationOptions relation;           // model == hrem: the training-only relation module
};

// What the model reads of a batch: tensors only. The loader's Batch (src/data/batch.h) carries
// these and its own bookkeeping; src/train hands them over with model_input(batch).
struct ModelInput {
    Tensor images;       // (B, R, F) region features, zero-padded
    Tensor img_lengths;  // (B,) int: regions kept
    Tensor tokens;       // (B, L) int token ids, padded with 0
    Tensor lengths;      // (B,) int: tokens
    Tensor desc_emb;     // (B, D) VSD description embeddings, or undefined
    Tensor cap_emb;      // (B, D) VSD caption embeddings, or undefined
};

// One forward pass: the (fused) embeddings, and for HREM the encoders' fragments.
struct Encoded {
    Tensor V, T;      // (B, E), unit norm, VSD-fused when the batch carries VSD vectors
    Tensor phi, psi;  // HREM only (when asked): region (B, R, E) and word (B, L, E) fragments
};

// VSD's instance-level alignment ("Visual Semantic Description Generation with MLLMs for
// Image-Text Matching", ICME 2025; paper-notes §2.6): l2n(x + e), where x is an encoder's output (already
// l2n(base)) and e the frozen description (image side) or caption (text side) embedding.
// No parameters, no projection: it works because the embedding size equals BGE's (1024).
Tensor vsd_fuse(const Tensor& x, const Tensor& e);

class VSEModel : public Module {
public:
    VSEModel(const ModelConfig& cfg, Rng& rng);
    // (V, T): image and caption embeddings (B, E), unit norm, one row per batch sample
    std::pair<Tensor, Tensor> forward(const ModelInput& b);
    // the same, plus HREM's fragments when `fragments` is set (the relation module's inputs)
    Encoded encode(const ModelInput& b, bool fragments);
    // the caption side alone (tokens, lengths and, for VSD, cap_emb): T (B, E), as encode's
    Tensor encode_text(const ModelInput& b);
    // the text encoder's parameters, split into BERT's own and the rest (BERT trains at a lower lr)
    std::vector<Tensor> bert_parameters() const;
    std::vector<Tensor> other_text_parameters() const;
    std::vector<Tensor> image_parameters() const;
    Bert* bert() const;  // the BERT text backbone, or null
    ModelConfig cfg;
    // GPO (paper-notes §2.2, 2.3)
    std::unique_ptr<ImageEncoderGPO> img_enc;
    std::unique_ptr<TextEncoderBiGRU> txt_enc;       // bigru
    std::unique_ptr<TextEncoderBERT> txt_enc_bert;   // bert
    // HREM (paper-notes §2.4, 2.5): encoders, and the relation module under "criterion." (training only;
    // saved with the model so a run resumes exactly)
    std::unique_ptr<ImageEncoderHREM> img_hrem;
    std::unique_ptr<TextEncoderHREM> txt_hrem;
    std::unique_ptr<RelationModule> criterion;
    Rng* dropout_rng = nullptr;  // set by the trainer for each step (BERT's dropout); null: none
};

}  // namespace vsd
