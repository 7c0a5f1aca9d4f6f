// clip.h — OpenCLIP's CLIP (Radford et al. 2021; Cherti et al. 2023) with OpenCLIP's parameter names,
// so that open_clip_pytorch_model.bin (the seed's CLIP/ folder, ViT-B/32 laion2B-s34B-b79K) loads.
//
// Image tower (VisionTransformer, Dosovitskiy et al. 2021), images (B, 3, S, S) normalised:
//   patches   patchify(x, p) @ conv1.weight.reshape(W, 3 p p)^T        (B, N, W), N = (S/p)^2
//   tokens    [class_embedding; patches] + positional_embedding         (B, N + 1, W)
//   ln_pre, then `layers` pre-LN blocks, ln_post; the class token's row @ proj (W, E)
// Text tower, token ids (B, L) from ClipTokenizer (L <= context_length, [SOT] ... [EOT] 0 ...):
//   token_embedding + positional_embedding[:L], the blocks under a causal mask (token t sees
//   tokens <= t, so the padding after EOT changes nothing before it), ln_final; the row of the
//   EOT token (the largest id of each row, as OpenCLIP's argmax pooling) @ text_projection (W, E)
// Each block (ResidualAttentionBlock):
//   x = x + out_proj(attention(ln_1(x)))           q, k, v = the three row blocks of in_proj
//   x = x + c_proj(act(c_fc(ln_2(x))))             act: GELU (erf), or QuickGELU when configured
// Features are not normalised here; logit_scale (log(1 / 0.07) at init) is kept for the contrastive loss.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../data/safetensors.h"
#include "layers.h"

namespace vsd {

struct ClipConfig {
    int64_t embed_dim = 512;
    bool quick_gelu = false;
    // image tower
    int64_t image_size = 224, patch_size = 32, vision_width = 768, vision_layers = 12, vision_heads = 12;
    double vision_mlp_ratio = 4.0;
    // text tower
    int64_t context_length = 77, vocab_size = 49408, text_width = 512, text_layers = 12, text_heads = 8;
    double text_mlp_ratio = 4.0;
    float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f}, std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    // open_clip_config.json ({"model_cfg": {...}, "preprocess_cfg": {...}}) or a bare model config
    static ClipConfig from_json_file(const std::string& path);
    static ClipConfig from_json(const std::string& text, const std::string& source);  // the same, from the text
};

class ClipBlock : public Module {
public:
    ClipBlock(int64_t width, int64_t heads, double mlp_ratio, bool quick_gelu, Rng& rng);
    // mask: (B, heads, L, L) visible pairs for the unfused attention, or undefined (every key)
    Tensor forward(const Tensor& x, const Tensor& mask) const;
    int64_t width, heads;
    bool quick_gelu;
    LayerNorm ln_1, ln_2;
    Tensor in_proj_weight, in_proj_bias;  // (3W, W), (3W): q, k, v stacked (nn.MultiheadAttention)
    Linear out_proj, c_fc, c_proj;
};

class ClipTransformer : public Module {
public:
    ClipTransformer(int64_t width, int64_t layers, int64_t heads, double mlp_ratio, bool quick_gelu, Rng& rng);
    Tensor forward(const Tensor& x, const Tensor& mask) const;
    std::vector<std::unique_ptr<ClipBlock>> resblocks;
};

class ClipVision : public Module {
public:
    ClipVision(const ClipConfig& c, Rng& rng);
    Tensor forward(const Tensor& images) const;  // (B, 3, S, S) -> (B, E)
    const ClipConfig& cfg;
    Tensor conv1_weight;  // (W, 3, p, p), "conv1.weight"
    Tensor class_embedding, positional_embedding;
    LayerNorm ln_pre;
    ClipTransformer transformer;
    LayerNorm ln_post;
    Tensor proj;  // (W, E)
};

class Clip : public Module {
public:
    Clip(const ClipConfig& c, Rng& rng);
    Tensor encode_image(const Tensor& images) const;  // (B, E), not normalised
    // ids (B, L) int on the CPU (the EOT positions are read there); L <= context_length
    Tensor encode_text(const Tensor& ids) const;
    // Load OpenCLIP weights; missing, unexpected, mis-shaped or non-finite tensors in one error
    // (a "module." prefix is accepted; the non-persistent attn_mask buffer is ignored).
    void load(const SafeTensors& st, const std::string& source);
    ClipConfig cfg;
    ClipVision visual;
    ClipTransformer transformer;
    Embedding token_embedding;
    Tensor positional_embedding;  // (context_length, W)
    LayerNorm ln_final;
    Tensor text_projection;       // (W, E)
    Tensor logit_scale;           // ()
};

// CLIP as a matching model (the rows CLIP, CLIP+VSD⋆/† of the paper, whose code is unreleased; our
// reconstruction, SPEC §2.8): unit-norm embeddings V, T; with VSD, VSD's fusion l2n(x + e) in CLIP's
// space, e = l2n(P (b - mean)) where b is the BGE embedding of the description (image side) or of
// the caption (text side) and P (E, D), mean (D) the PCA fitted on the training descriptions
// (buffers "vsd.pca_components", "vsd.pca_mean"; saved with the model). Parameters "clip.*".
class ClipMatcher : public Module {
public:
    ClipMatcher(const ClipConfig& c, Rng& rng, int64_t vsd_dim);  // vsd_dim 0: no VSD
    Tensor image_side(const Tensor& images, const Tensor& desc) const;  // (B, E); desc undefined without VSD
    Tensor text_side(const Tensor& ids, const Tensor& cap) const;
    Tensor reduce(const Tensor& b) const;  // (B, D) BGE rows -> (B, E) unit rows, no gradient
    Clip clip;
    int64_t vsd_dim;
    Tensor pca_mean, pca_components;
};

// The weights file of an OpenCLIP folder: open_clip_pytorch_model.bin, else open_clip_model.safetensors; "" if none.
std::string clip_weights_file(const std::string& dir);

// A CLIP folder: open_clip_config.json and open_clip_pytorch_model.bin (or open_clip_model.safetensors),
// in eval mode. A missing file is one error naming the folder and what it should hold.
std::unique_ptr<Clip> load_clip_folder(const std::string& dir);

}  // namespace vsd
