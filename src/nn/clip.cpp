// clip.cpp — OpenCLIP's CLIP, tower by tower (clip.h).
#include "clip.h"

#include <cmath>
#include <fstream>

#include "../data/json.h"
#include "../data/npy.h"
#include "../data/torch_load.h"

namespace vsd {

static bool file_readable(const std::string& p) { return std::ifstream(p).good(); }

ClipConfig ClipConfig::from_json_file(const std::string& path) {
    return from_json(read_file(path, "the CLIP config", "a CLIP folder holds open_clip_config.json"), path);
}

std::string clip_weights_file(const std::string& dir) {
    for (const char* f : {"open_clip_pytorch_model.bin", "open_clip_model.safetensors"})
        if (file_readable(dir + "/" + f)) return dir + "/" + f;
    return "";
}

ClipConfig ClipConfig::from_json(const std::string& text, const std::string& path) {
    const Json doc = Json::parse(text, path);
    const Json& m = doc.has("model_cfg") ? doc["model_cfg"] : doc;
    ClipConfig c;
    auto get_int = [&](const Json& j, const char* key, int64_t& v) {
        if (const Json* x = j.find(key)) v = x->as_int(key);
    };
    auto get_double = [&](const Json& j, const char* key, double& v) {
        if (const Json* x = j.find(key)) v = x->as_double(key);
    };
    // options that change the maths and that we do not implement: refused by name, not ignored
    auto refuse = [&](const Json& j, const char* section, const std::vector<const char*>& keys) {
        for (const char* k : keys)
            if (const Json* x = j.find(k); x && !x->is_null() && !(x->is_bool() && !x->as_bool()))
                FATAL("%s: %s.%s is set; this CLIP implements OpenCLIP's plain ViT and text transformer only",
                      path.c_str(), section, k);
    };
    get_int(m, "embed_dim", c.embed_dim);
    if (const Json* q = m.find("quick_gelu")) c.quick_gelu = q->as_bool("quick_gelu");
    const Json& v = m["vision_cfg"];
    refuse(v, "vision_cfg", {"timm_model_name", "attentional_pool", "ls_init_value", "final_ln_after_pool", "no_ln_pre",
                             "output_tokens", "act_kwargs", "norm_kwargs"});
    if (const Json* p = v.find("pool_type"))
        ENSURE(p->as_string() == "tok", "%s: vision_cfg.pool_type '%s'; only 'tok' (the class token) is implemented",
               path.c_str(), p->as_string().c_str());
    get_int(v, "image_size", c.image_size);
    get_int(v, "patch_size", c.patch_size);
    get_int(v, "width", c.vision_width);
    get_int(v, "layers", c.vision_layers);
    int64_t head_width = 64;
    get_int(v, "head_width", head_width);
    get_double(v, "mlp_ratio", c.vision_mlp_ratio);
    const Json& t = m["text_cfg"];
    refuse(t, "text_cfg", {"hf_model_name", "ls_init_value", "embed_cls", "proj_bias", "no_causal_mask", "output_tokens",
                           "act_kwargs", "norm_kwargs"});
    if (const Json* p = t.find("pool_type"))
        ENSURE(p->as_string() == "argmax", "%s: text_cfg.pool_type '%s'; only 'argmax' (the EOT token) is implemented",
               path.c_str(), p->as_string().c_str());
    get_int(t, "context_length", c.context_length);
    get_int(t, "vocab_size", c.vocab_size);
    get_int(t, "width", c.text_width);
    get_int(t, "heads", c.text_heads);
    get_int(t, "layers", c.text_layers);
    get_double(t, "mlp_ratio", c.text_mlp_ratio);
    if (const Json* pre = doc.find("preprocess_cfg")) {
        for (const char* key : {"mean", "std"})
            if (const Json* a = pre->find(key)) {
                ENSURE(a->is_array() && a->size() == 3, "%s: preprocess_cfg.%s should hold 3 numbers", path.c_str(), key);
                for (int i = 0; i < 3; i++) (key[0] == 'm' ? c.mean : c.std)[i] = (float)(*a)[i].as_double(key);
            }
    }
    auto range = [&](const char* key, int64_t x, int64_t lo, int64_t hi) {
        ENSURE_HINT(x >= lo && x <= hi, "use the model's own open_clip_config.json", "%s: %s is %lld, expected %lld..%lld",
                    path.c_str(), key, (long long)x, (long long)lo, (long long)hi);
    };
    range("embed_dim", c.embed_dim, 1, 1 << 14);
    range("vision_cfg.image_size", c.image_size, 1, 4096);
    range("vision_cfg.patch_size", c.patch_size, 1, 1024);
    range("vision_cfg.width", c.vision_width, 1, 1 << 14);
    range("vision_cfg.layers", c.vision_layers, 1, 256);
    range("vision_cfg.head_width", head_width, 1, 1 << 14);
    range("text_cfg.context_length", c.context_length, 2, 1 << 14);
    range("text_cfg.vocab_size", c.vocab_size, 1, 1 << 22);
    range("text_cfg.width", c.text_width, 1, 1 << 14);
    range("text_cfg.heads", c.text_heads, 1, 256);
    range("text_cfg.layers", c.text_layers, 1, 256);
    ENSURE(c.image_size % c.patch_size == 0, "%s: image_size %lld is not a multiple of patch_size %lld", path.c_str(),
           (long long)c.image_size, (long long)c.patch_size);
    ENSURE(c.vision_width % head_width == 0, "%s: vision width %lld is not a multiple of head_width %lld", path.c_str(),
           (long long)c.vision_width, (long long)head_width);
    c.vision_heads = c.vision_width / head_width;
    ENSURE(c.text_width % c.text_heads == 0, "%s: text width %lld is not a multiple of heads %lld", path.c_str(),
           (long long)c.text_width, (long long)c.text_heads);
    for (double r : {c.vision_mlp_ratio, c.text_mlp_ratio})
        ENSURE(std::isfinite(r) && r > 0 && r <= 64, "%s: mlp_ratio %g, expected (0, 64]", path.c_str(), r);
    return c;
}

// ---- blocks -----------------------------------------------------------------------------------
ClipBlock::ClipBlock(int64_t w, int64_t h, double mlp_ratio, bool qg, Rng& rng)
    : width(w), heads(h), quick_gelu(qg), ln_1(w, 1e-5f), ln_2(w, 1e-5f),
      in_proj_weight(Tensor::zeros({3 * w, w})), in_proj_bias(Tensor::zeros({3 * w})), out_proj(w, w, true, rng),
      c_fc(w, (int64_t)(w * mlp_ratio), true, rng), c_proj((int64_t)(w * mlp_ratio), w, true, rng) {
    register_module("ln_1", ln_1);
    register_parameter("attn.in_proj_weight", in_proj_weight);
    register_parameter("attn.in_proj_bias", in_proj_bias);
    register_module("attn.out_proj", out_proj);
    register_module("ln_2", ln_2);
    register_module("mlp.c_fc", c_fc);
    register_module("mlp.c_proj", c_proj);
    // nn.MultiheadAttention's own initialisation: in_proj Xavier-uniform, both biases 0
    xavier_uniform_(in_proj_weight, rng);
    fill(out_proj.bias, 0.0f);
}

Tensor ClipBlock::forward(const Tensor& x, const Tensor& mask) const {
    const Tensor h = ln_1.forward(x);
    // q, k, v: rows [0, W), [W, 2W), [2W, 3W) of in_proj (narrow along the first dim is a view)
    auto proj = [&](int i) { return linear(h, narrow(in_proj_weight, 0, i * width, width), narrow(in_proj_bias, 0, i * width, width)); };
    Tensor ctx;
    if (!mask.defined() && x.is_cuda()) {  // every key visible: the fused attention kernel
        ctx = attention(linear(h, narrow(in_proj_weight, 0, 0, width)), linear(h, narrow(in_proj_weight, 0, width, width)),
                        linear(h, narrow(in_proj_weight, 0, 2 * width, width)), Tensor(), heads, 0.0f, nullptr,
                        narrow(in_proj_bias, 0, 0, width), narrow(in_proj_bias, 0, width, width),
                        narrow(in_proj_bias, 0, 2 * width, width));
    } else {
        Tensor q = proj(0), k = proj(1), v = proj(2);
        ctx = multi_head_attention(q, k, v, heads, mask, Tensor(), 0.0f, nullptr);
    }
    const Tensor a = x + out_proj.forward(ctx);
    const Tensor f = c_fc.forward(ln_2.forward(a));
    return a + c_proj.forward(quick_gelu ? vsd::quick_gelu(f) : gelu(f));
}

ClipTransformer::ClipTransformer(int64_t width, int64_t layers, int64_t heads, double mlp_ratio, bool qg, Rng& rng) {
    for (int64_t i = 0; i < layers; i++) {
        resblocks.push_back(std::make_unique<ClipBlock>(width, heads, mlp_ratio, qg, rng));
        register_module("resblocks." + std::to_string(i), *resblocks.back());
    }
}

Tensor ClipTransformer::forward(const Tensor& x, const Tensor& mask) const {
    Tensor h = x;
    for (const auto& b : resblocks) h = b->forward(h, mask);
    return h;
}

// ---- the image tower ----------------------------------------------------------------------------
ClipVision::ClipVision(const ClipConfig& c, Rng& rng)
    : cfg(c), conv1_weight(Tensor::zeros({c.vision_width, 3, c.patch_size, c.patch_size})),
      class_embedding(Tensor::zeros({c.vision_width})),
      positional_embedding(Tensor::zeros({(c.image_size / c.patch_size) * (c.image_size / c.patch_size) + 1, c.vision_width})),
      ln_pre(c.vision_width, 1e-5f),
      transformer(c.vision_width, c.vision_layers, c.vision_heads, c.vision_mlp_ratio, c.quick_gelu, rng),
      ln_post(c.vision_width, 1e-5f), proj(Tensor::zeros({c.vision_width, c.embed_dim})) {
    register_parameter("conv1.weight", conv1_weight);
    register_parameter("class_embedding", class_embedding);
    register_parameter("positional_embedding", positional_embedding);
    register_module("ln_pre", ln_pre);
    register_module("transformer", transformer);
    register_module("ln_post", ln_post);
    register_parameter("proj", proj);
    // OpenCLIP's VisionTransformer: conv1 as nn.Conv2d (U(+-1/sqrt(fan_in))); the class token,
    // positions and projection N(0, width^-1/2)
    uniform_(conv1_weight, default_bound(3 * c.patch_size * c.patch_size), rng);
    const float scale = 1.0f / std::sqrt((float)c.vision_width);
    for (Tensor* t : {&class_embedding, &positional_embedding, &proj}) fill_normal(*t, scale, rng);
}

Tensor ClipVision::forward(const Tensor& images) const {
    ENSURE_HINT(images.ndim() == 4 && images.size(1) == 3 && images.size(2) == cfg.image_size && images.size(3) == cfg.image_size,
                "images go through clip_preprocess (src/data/image.h) first",
                "CLIP: expected images (B, 3, %lld, %lld), got %s", (long long)cfg.image_size, (long long)cfg.image_size,
                images.shape_str().c_str());
    const int64_t B = images.size(0), W = cfg.vision_width, p = cfg.patch_size;
    // 1. patches, embedded by one GEMM with the convolution's weight    (B, N, W)
    Tensor x = linear(patchify(images, p), reshape(conv1_weight, {W, 3 * p * p}));
    // 2. the class token in front (the same vector for every image), plus positions   (B, N + 1, W)
    const Tensor cls = Tensor::zeros({B, 1, W}, DType::F32, images.device()) + reshape(class_embedding, {1, 1, W});
    x = concat({cls, x}, 1) + reshape(positional_embedding, {1, positional_embedding.size(0), W});
    // 3. the transformer between two LayerNorms (no mask: every token sees every token)
    x = ln_post.forward(transformer.forward(ln_pre.forward(x), Tensor()));
    // 4. the class token's row, projected
    return matmul(reshape(narrow(x, 1, 0, 1), {B, W}), proj);
}

// OpenCLIP's text pooling position: per row of ids (B, L) (an int tensor on the host), the first
// position of the row's largest id (the EOT token, the vocabulary's last), as b * L + t. Bookkeeping
// on host integers (tests/test_layers.cpp allows these lines); every id must be in the vocabulary.
static std::vector<int64_t> eot_rows(const Tensor& ids, int64_t vocab_size) {
    const int64_t B = ids.size(0), L = ids.size(1);
    std::vector<int64_t> out(B);
    for (int64_t b = 0; b < B; b++) {
        int64_t best = 0;
        for (int64_t t = 0; t < L; t++) {
            const int64_t id = ids.index_at(b * L + t);
            ENSURE_HINT(id >= 0 && id < vocab_size, "the ids must come from the model's own tokenizer",
                        "CLIP: token id %lld (row %lld, position %lld) is outside the vocabulary of %lld", (long long)id,
                        (long long)b, (long long)t, (long long)vocab_size);
            if (id > ids.index_at(b * L + best)) best = t;
        }
        out[b] = b * L + best;
    }
    return out;
}

// ---- the model ------------------------------------------------------------------------------------
Clip::Clip(const ClipConfig& c, Rng& rng)
    : cfg(c), visual(cfg, rng), transformer(c.text_width, c.text_layers, c.text_heads, c.text_mlp_ratio, c.quick_gelu, rng),
      token_embedding(c.vocab_size, c.text_width), positional_embedding(Tensor::zeros({c.context_length, c.text_width})),
      ln_final(c.text_width, 1e-5f), text_projection(Tensor::zeros({c.text_width, c.embed_dim})),
      logit_scale(Tensor::scalar(std::log(1.0f / 0.07f))) {
    register_module("visual", visual);
    register_module("transformer", transformer);
    register_module("token_embedding", token_embedding);
    register_parameter("positional_embedding", positional_embedding);
    register_module("ln_final", ln_final);
    register_parameter("text_projection", text_projection);
    register_parameter("logit_scale", logit_scale);
    // OpenCLIP's CLIP.init_parameters for the text side (Radford et al.'s): embeddings N(0, 0.02)
    // and N(0, 0.01); in each block in_proj N(0, W^-1/2), out_proj and c_proj N(0, W^-1/2 (2 layers)^-1/2),
    // c_fc N(0, (2W)^-1/2); text_projection N(0, W^-1/2)
    const float w = (float)c.text_width;
    fill_normal(token_embedding.weight, 0.02f, rng);
    fill_normal(positional_embedding, 0.01f, rng);
    const float attn_std = 1.0f / std::sqrt(w), proj_std = attn_std / std::sqrt(2.0f * (float)c.text_layers),
                fc_std = 1.0f / std::sqrt(2.0f * w);
    for (auto& b : transformer.resblocks) {
        fill_normal(b->in_proj_weight, attn_std, rng);
        fill_normal(b->out_proj.weight, proj_std, rng);
        fill_normal(b->c_fc.weight, fc_std, rng);
        fill_normal(b->c_proj.weight, proj_std, rng);
    }
    fill_normal(text_projection, attn_std, rng);
}

Tensor Clip::encode_image(const Tensor& images) const { return visual.forward(images); }

Tensor Clip::encode_text(const Tensor& ids) const {
    ENSURE(ids.ndim() == 2 && ids.dtype() != DType::F32 && !ids.is_cuda(),
           "CLIP: expected token ids (B, L) int on the CPU, got %s", ids.shape_str().c_str());
    const int64_t B = ids.size(0), L = ids.size(1), W = cfg.text_width;
    ENSURE_HINT(L >= 1 && L <= cfg.context_length, "ClipTokenizer::encode cuts captions to the context length",
                "CLIP: %lld tokens per caption; the model's context is %lld", (long long)L, (long long)cfg.context_length);
    // the EOT token of each row: the first position of its largest id (OpenCLIP's argmax pooling)
    const std::vector<int64_t> eot = eot_rows(ids, cfg.vocab_size);
    const Device dev = token_embedding.weight.device();
    // 1. tokens plus positions                      (B, L, W)
    Tensor x = token_embedding.forward(ids.to(dev)) + reshape(narrow(positional_embedding, 0, 0, L), {1, L, W});
    // 2. the blocks under the causal mask, ln_final
    const Tensor mask = attention_mask(reshape(causal_mask(L, x), {1, 1, L, L}), B, cfg.text_heads, L);
    x = ln_final.forward(transformer.forward(x, mask));
    // 3. each row's EOT token, projected
    const Tensor rows = index_select(reshape(x, {B * L, W}), 0, Tensor::from_i64({B}, eot).to(dev));
    return matmul(rows, text_projection);
}

void Clip::load(const SafeTensors& st, const std::string& source) {
    // the causal mask is a non-persistent buffer of OpenCLIP's (older files may carry it)
    load_named_tensors(*this, st, source, {"", "module."},
                       [](const std::string& n) { return n == "attn_mask" || n == "module.attn_mask"; }, "CLIP config",
                       "open_clip_config.json and the weights must come from the same model folder");
}

ClipMatcher::ClipMatcher(const ClipConfig& c, Rng& rng, int64_t d) : clip(c, rng), vsd_dim(d) {
    register_module("clip", clip);
    if (d > 0) {
        pca_mean = Tensor::zeros({d});
        pca_components = Tensor::zeros({c.embed_dim, d});
        register_buffer("vsd.pca_mean", pca_mean);
        register_buffer("vsd.pca_components", pca_components);
    }
}

Tensor ClipMatcher::reduce(const Tensor& b) const {
    ENSURE(vsd_dim > 0 && b.ndim() == 2 && b.size(1) == vsd_dim, "CLIP+VSD: BGE rows %s; expected (B, %lld)",
           b.shape_str().c_str(), (long long)vsd_dim);
    NoGrad ng;  // a fixed map of fixed inputs
    return unit_rows(linear(b - reshape(pca_mean, {1, vsd_dim}), pca_components));
}

Tensor ClipMatcher::image_side(const Tensor& images, const Tensor& desc) const {
    const Tensor v = l2norm(clip.encode_image(images));
    return vsd_dim > 0 ? l2norm(v + reduce(desc)) : v;
}

Tensor ClipMatcher::text_side(const Tensor& ids, const Tensor& cap) const {
    const Tensor t = l2norm(clip.encode_text(ids));
    return vsd_dim > 0 ? l2norm(t + reduce(cap)) : t;
}

std::unique_ptr<Clip> load_clip_folder(const std::string& dir) {
    const std::string cfg = dir + "/open_clip_config.json";
    ENSURE_HINT(file_readable(cfg), "the seed's CLIP/ folder holds open_clip_config.json and open_clip_pytorch_model.bin",
                "%s: no open_clip_config.json", dir.c_str());
    Rng rng(0);  // every parameter is then overwritten by the file's
    auto clip = std::make_unique<Clip>(ClipConfig::from_json_file(cfg), rng);
    const std::string weights = clip_weights_file(dir);
    ENSURE_HINT(!weights.empty(), "the seed's CLIP/ folder holds open_clip_pytorch_model.bin",
                "%s: no open_clip_pytorch_model.bin or open_clip_model.safetensors", dir.c_str());
    clip->load(load_weights_file(weights), weights);
    clip->eval();
    return clip;
}

}  // namespace vsd
