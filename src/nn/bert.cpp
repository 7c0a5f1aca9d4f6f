// bert.cpp — the BERT encoder, layer by layer, as the original paper and Hugging Face define it.
#include "bert.h"

#include <cmath>

#include "../data/json.h"
#include "../data/torch_load.h"

namespace vsd {

BertConfig BertConfig::from_json_file(const std::string& path) {
    Json j = Json::parse_file(path);
    BertConfig c;
    c.vocab_size = j["vocab_size"].as_int("vocab_size");
    c.hidden = j["hidden_size"].as_int("hidden_size");
    c.layers = j["num_hidden_layers"].as_int("num_hidden_layers");
    c.heads = j["num_attention_heads"].as_int("num_attention_heads");
    c.intermediate = j["intermediate_size"].as_int("intermediate_size");
    if (const Json* m = j.find("max_position_embeddings")) c.max_positions = m->as_int();
    if (const Json* t = j.find("type_vocab_size")) c.type_vocab = t->as_int();
    if (const Json* e = j.find("layer_norm_eps")) c.ln_eps = (float)e->as_double();
    if (const Json* d = j.find("hidden_dropout_prob")) c.dropout = (float)d->as_double();
    if (const Json* r = j.find("initializer_range")) c.init_range = (float)r->as_double();
    if (const Json* p = j.find("pad_token_id"); p && !p->is_null()) c.pad_id = p->as_int();
    if (const Json* a = j.find("hidden_act"))
        ENSURE(a->as_string() == "gelu", "%s: hidden_act '%s' is not supported (gelu is)", path.c_str(), a->as_string().c_str());
    // every size in a sane range before anything is allocated (a hostile config must not divide by
    // zero or ask for a million layers); bert-large is 24 layers, 1024 wide, 16 heads
    auto range = [&](const char* key, int64_t v, int64_t lo, int64_t hi) {
        ENSURE_HINT(v >= lo && v <= hi, "use the model's own config.json", "%s: %s is %lld, expected %lld..%lld", path.c_str(), key,
                    (long long)v, (long long)lo, (long long)hi);
    };
    range("vocab_size", c.vocab_size, 1, 1 << 22);
    range("hidden_size", c.hidden, 1, 1 << 14);
    range("num_hidden_layers", c.layers, 1, 256);
    range("num_attention_heads", c.heads, 1, 256);
    range("intermediate_size", c.intermediate, 1, 1 << 16);
    range("max_position_embeddings", c.max_positions, 1, 1 << 16);
    range("type_vocab_size", c.type_vocab, 1, 1 << 10);
    ENSURE(std::isfinite(c.init_range) && c.init_range >= 0 && c.init_range < 10, "%s: initializer_range is %g, expected a "
           "small non-negative number", path.c_str(), c.init_range);
    ENSURE(std::isfinite(c.ln_eps) && c.ln_eps > 0 && c.ln_eps < 1, "%s: layer_norm_eps is %g, expected a small positive number",
           path.c_str(), c.ln_eps);
    ENSURE(std::isfinite(c.dropout) && c.dropout >= 0 && c.dropout < 1, "%s: hidden_dropout_prob is %g, expected [0, 1)",
           path.c_str(), c.dropout);
    ENSURE(c.hidden % c.heads == 0, "%s: hidden_size %lld is not a multiple of num_attention_heads %lld", path.c_str(),
           (long long)c.hidden, (long long)c.heads);
    return c;
}

BertLayer::BertLayer(const BertConfig& c, Rng& rng)
    : cfg(c), query(c.hidden, c.hidden, true, rng), key(c.hidden, c.hidden, true, rng), value(c.hidden, c.hidden, true, rng),
      attn_out(c.hidden, c.hidden, true, rng), attn_ln(c.hidden, c.ln_eps), inter(c.hidden, c.intermediate, true, rng),
      out(c.intermediate, c.hidden, true, rng), out_ln(c.hidden, c.ln_eps) {
    register_module("attention.self.query", query);
    register_module("attention.self.key", key);
    register_module("attention.self.value", value);
    register_module("attention.output.dense", attn_out);
    register_module("attention.output.LayerNorm", attn_ln);
    register_module("intermediate.dense", inter);
    register_module("output.dense", out);
    register_module("output.LayerNorm", out_ln);
}

Tensor BertLayer::forward(const Tensor& h, const Tensor& mask, Rng* drop, bool fused) {
    const int64_t A = cfg.heads;
    // 1. queries, keys, values, split into heads                      (B, A, L, d)
    // 1-2. multi-head attention over the real keys (dropout on its probabilities)   (B, L, H)
    //    (fused: the projections are bare GEMMs, and the attention op adds their biases)
    Tensor ctx;
    if (fused) {
        Tensor q = linear(h, query.weight), k = linear(h, key.weight), v = linear(h, value.weight);
        ctx = attention(q, k, v, mask, A, cfg.dropout, drop, query.bias, key.bias, value.bias);
    } else {
        Tensor q = query.forward(h);  // in this order (see multi_head_attention)
        Tensor k = key.forward(h);
        Tensor v = value.forward(h);
        ctx = multi_head_attention(q, k, v, A, mask, Tensor(), cfg.dropout, drop);
    }
    // 3. project, residual + LayerNorm (the biases fused with what follows them: the same bits
    //    as linear, dropout and add, in fewer launches; kernels/bias_fused.h)
    Tensor a = attn_ln.forward(bias_dropout_add(h, linear(ctx, attn_out.weight), attn_out.bias, cfg.dropout, drop));
    // 4. feed-forward with GELU, residual + LayerNorm
    Tensor f = linear(bias_gelu(linear(a, inter.weight), inter.bias), out.weight);
    return out_ln.forward(bias_dropout_add(a, f, out.bias, cfg.dropout, drop));
}

Tensor BertLayer::forward_fused(const Tensor& h, const Tensor& keep, const std::vector<int>& key_len) {
    // the same layer as forward(), with the attention in one kernel (no dropout: inference); with
    // --cudnn 1 and prefix key masks (key_len given), cuDNN's multi-head attention instead
    Tensor ctx = key_len.empty() ? attention(linear(h, query.weight), linear(h, key.weight), linear(h, value.weight), keep,
                                             cfg.heads, 0.0f, nullptr, query.bias, key.bias, value.bias)
                                 : attention_cudnn(h, query.weight, query.bias, key.weight, key.bias, value.weight,
                                                   value.bias, key_len, cfg.heads);
    Tensor a = attn_ln.forward(h + attn_out.forward(ctx));
    return out_ln.forward(a + out.forward(gelu(inter.forward(a))));
}

Bert::Bert(const BertConfig& c, Rng& rng)
    : cfg(c), word(c.vocab_size, c.hidden), position(c.max_positions, c.hidden), token_type(c.type_vocab, c.hidden),
      emb_ln(c.hidden, c.ln_eps), pooler(c.hidden, c.hidden, true, rng) {
    register_module("embeddings.word_embeddings", word);
    register_module("embeddings.position_embeddings", position);
    register_module("embeddings.token_type_embeddings", token_type);
    register_module("embeddings.LayerNorm", emb_ln);
    for (int64_t i = 0; i < c.layers; i++) {
        layer.push_back(std::make_unique<BertLayer>(cfg, rng));
        register_module("encoder.layer." + std::to_string(i), *layer.back());
    }
    register_module("pooler.dense", pooler);
    // A model without pretrained weights starts as Hugging Face's BertModel does (_init_weights): every
    // Linear weight and embedding N(0, initializer_range), Linear biases 0, the padding token's word
    // embedding 0, LayerNorms 1 and 0 (as constructed)
    std::vector<Linear*> linears = {&pooler};
    for (auto& l : layer)
        for (Linear* m : {&l->query, &l->key, &l->value, &l->attn_out, &l->inter, &l->out}) linears.push_back(m);
    for (Tensor* t : {&word.weight, &position.weight, &token_type.weight}) fill_normal(*t, cfg.init_range, rng);
    for (Linear* m : linears) {
        fill_normal(m->weight, cfg.init_range, rng);
        fill(m->bias, 0.0f);
    }
    if (cfg.pad_id >= 0 && cfg.pad_id < cfg.vocab_size) fill(word.weight.view_rows(cfg.pad_id, 1), 0.0f);
}

Tensor Bert::forward(const Tensor& ids, const Tensor& lengths, Rng* drop) {
    ENSURE(ids.ndim() == 2, "BERT expects token ids (B, L), got %s", ids.shape_str().c_str());
    const int64_t B = ids.size(0), L = ids.size(1);
    ENSURE(L <= cfg.max_positions, "BERT: %lld tokens exceed max_position_embeddings %lld. HINT: truncate the text",
           (long long)L, (long long)cfg.max_positions);
    // 1. embeddings: word + position + token type 0, LayerNorm, dropout    (B, L, H)
    //    Position t's embedding is row t of its table, and every token is of type 0, so those two
    //    are the tables' first L rows and first row, broadcast over the batch.
    const int64_t H = cfg.hidden;
    Tensor e = word.forward(ids) + reshape(narrow(position.weight, 0, 0, L), {1, L, H}) +
               reshape(narrow(token_type.weight, 0, 0, 1), {1, 1, H});
    Tensor h = maybe_dropout(emb_ln.forward(e), cfg.dropout, drop);
    // 2. the key mask, shared by every layer: 1 where key t < lengths[b] and its id is not [PAD]
    //    (0): the reference's attention_mask = (ids != 0), which also hides a [PAD] that the token
    //    augmentation happened to draw as a random word. keep (B, L); the unfused path spreads it
    //    to (B, A, L, L) for the masked softmax.
    //    Made where the model lives: ids >= 0, so clamp(ids, 0, 1) is 0 for [PAD] and 1 otherwise.
    const Device dev = word.weight.device();
    Tensor keep = length_mask(lengths.to(dev), L) * clamp(to_float(ids.to(dev)), 0.0f, 1.0f);
    // on the device the fused attention op (kernels/attention.cu) needs only keep; the CPU keeps
    // the unfused ops (same maths; its GEMMs make them the faster path there)
    const bool fused = fused_attention && word.weight.is_cuda();
    // the unfused path's (B, A, L, L) mask: keep broadcast over heads and queries
    Tensor km = fused ? keep : attention_mask(reshape(keep, {B, 1, 1, L}), B, cfg.heads, L);
    // inference on the device (no dropout, no gradient): forward_fused, and there cuDNN's attention
    // (--cudnn 1) takes key lengths, so each sample's kept keys must be a prefix (always, at
    // inference: the token masking that can hide a key mid-caption only trains); otherwise
    // (empty) our fused kernel takes the batch
    const bool infer = fused && !drop && !grad_enabled();
    const std::vector<int> key_len = infer && cudnn_enabled() ? key_prefix_lengths(keep) : std::vector<int>{};
    // 3. the layers
    for (auto& l : layer) h = infer ? l->forward_fused(h, km, key_len) : l->forward(h, km, drop, fused);
    return h;
}

void Bert::load(const SafeTensors& st, const std::string& source) {
    // position_ids buffers are not weights; a masked-LM head (bert-base-uncased ships one) is not ours
    load_named_tensors(*this, st, source, {"", "bert."},
                       [](const std::string& n) { return n.find("position_ids") != std::string::npos || n.rfind("cls.", 0) == 0; },
                       "BERT config", "config.json and the weights must come from the same model folder");
}

std::unique_ptr<Bert> load_bert_folder(const std::string& dir) {
    Rng rng(0);  // every parameter is then overwritten by the file's
    auto bert = std::make_unique<Bert>(BertConfig::from_json_file(dir + "/config.json"), rng);
    const std::string weights = find_model_weights(dir);
    ENSURE_HINT(!weights.empty(), "a Hugging Face model folder holds model.safetensors or pytorch_model.bin",
                "%s: no model weights", dir.c_str());
    bert->load(load_weights_file(weights), weights);
    bert->eval();
    return bert;
}

Tensor sentence_embedding(const Tensor& hidden, const Tensor& lengths, bool cls) {
    const int64_t B = hidden.size(0), L = hidden.size(1), H = hidden.size(2);
    Tensor pooled;
    if (cls) {
        pooled = reshape(narrow(hidden, 1, 0, 1), {B, H});
    } else {
        Tensor m = reshape(length_mask(lengths, L), {B, L, 1});  // mean over the real tokens
        Tensor cnt = clamp(reshape(to_float(lengths.to(hidden.device())), {B, 1}), 1.0f, 3.0e38f);  // max(len, 1)
        pooled = sum(hidden * m.to(hidden.device()), 1) / cnt;
    }
    // F.normalize: x / max(||x||, 1e-12)
    Tensor n = sqrt(sum(pooled * pooled, 1, true));
    return pooled / clamp(n, 1e-12f, 3.0e38f);
}

}  // namespace vsd
