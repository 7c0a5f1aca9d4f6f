// bert.h — a BERT encoder (Devlin et al. 2019), configuration-driven, with Hugging Face's names.
//
// Runs bert-base-uncased (768/12/12), bge-large-en-v1.5 (1024/24/16) and all-MiniLM-L6-v2
// (384/6/12): only config.json differs. B batch, L tokens, H hidden, A heads, d = H / A.
//   embeddings: word + position + token type (0) -> LayerNorm -> dropout
//   each layer (post-LN):  h = LN(h + dropout(W_o attention(h)))
//                          h = LN(h + dropout(W_2 gelu(W_1 h)))
//   attention: softmax(Q K^T / sqrt(d) + mask) V per head; padded keys (ids == 0 past the length)
//   are masked out. The pooler exists (so checkpoints load) but the matching models never use it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../data/safetensors.h"
#include "layers.h"

namespace vsd {

struct BertConfig {
    int64_t vocab_size = 30522, hidden = 768, layers = 12, heads = 12, intermediate = 3072;
    int64_t max_positions = 512, type_vocab = 2;
    float ln_eps = 1e-12f, dropout = 0.1f;
    float init_range = 0.02f;  // initializer_range: N(0, this) for a randomly initialised model
    int64_t pad_id = 0;        // pad_token_id: its word embedding starts at zero
    static BertConfig from_json_file(const std::string& path);  // a Hugging Face config.json
};

class BertLayer : public Module {
public:
    BertLayer(const BertConfig& c, Rng& rng);
    // mask: (B, A, L, L) for the unfused attention (multi_head_attention), or keep (B, L) for
    // the fused op (fused = true: kernels/attention.h, 3 launches instead of ~20); the same maths
    Tensor forward(const Tensor& h, const Tensor& mask, Rng* drop, bool fused = false);
    // inference; keep (B, L); key_len non-empty: cuDNN's attention (--cudnn 1) over those key lengths
    Tensor forward_fused(const Tensor& h, const Tensor& keep, const std::vector<int>& key_len = {});
    const BertConfig& cfg;
    Linear query, key, value, attn_out;
    LayerNorm attn_ln;
    Linear inter, out;
    LayerNorm out_ln;
};

class Bert : public Module {
public:
    Bert(const BertConfig& c, Rng& rng);
    // ids (B, L) int, lengths (B,): tokens past a length are padding. Returns the last hidden states
    // (B, L, H). `drop` (train mode only) supplies the dropout masks; null = no dropout.
    Tensor forward(const Tensor& ids, const Tensor& lengths, Rng* drop = nullptr);
    // Load Hugging Face weights (a "bert." prefix is accepted); missing, unexpected or mis-shaped
    // tensors are listed in one error. position_ids buffers are ignored.
    void load(const SafeTensors& st, const std::string& source);
    BertConfig cfg;
    // on the device: the fused attention op (kernels/attention.cu), in training and inference
    // (false: the unfused ops, as on the CPU, whose bits stay those of the earlier releases)
    bool fused_attention = true;
    Embedding word, position, token_type;
    LayerNorm emb_ln;
    std::vector<std::unique_ptr<BertLayer>> layer;
    Linear pooler;
};

// A Hugging Face model folder's BERT (config.json, and model.safetensors or pytorch_model.bin)
// with its weights, in eval mode; a folder without weights is one error naming it.
std::unique_ptr<Bert> load_bert_folder(const std::string& dir);

// Sentence embeddings from last hidden states: mean over the real tokens (or the [CLS] vector),
// then L2-normalised (x / max(||x||, 1e-12), as F.normalize). (B, L, H) -> (B, H)
Tensor sentence_embedding(const Tensor& hidden, const Tensor& lengths, bool cls = false);

}  // namespace vsd
