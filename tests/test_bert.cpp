// BERT: real all-MiniLM-L6-v2 weights against Hugging Face transformers' outputs (goldens from
// tools/make_bert_fixtures.py), gradients through a tiny random BERT, and loading errors.
#include <fstream>

#include "../src/data/npy.h"
#include "../src/data/tokenizer.h"
#include "../src/nn/bert.h"
#include "helpers.h"

// data/models/all-MiniLM-L6-v2 (tools/fetch_minilm.sh; .ci/run fetches it) or $VSD_MINILM
static std::string minilm_dir() {
    const char* env = std::getenv("VSD_MINILM");
    return env ? std::string(env) : std::string(VSD_SOURCE_DIR) + "/data/models/all-MiniLM-L6-v2";
}
static bool minilm_absent() {
    if (file_exists(minilm_dir() + "/model.safetensors")) return false;
    std::fprintf(stderr, "note: %s is absent (run tools/fetch_minilm.sh): skipping the MiniLM real-weight test\n",
                 minilm_dir().c_str());
    return true;
}

TEST_CASE("BERT: all-MiniLM-L6-v2 real weights reproduce Hugging Face's hidden states and sentence embeddings" *
          doctest::skip(minilm_absent())) {
    const std::string d = minilm_dir();
    BertConfig cfg = BertConfig::from_json_file(d + "/config.json");
    CHECK(cfg.hidden == 384);
    CHECK(cfg.layers == 6);
    CHECK(cfg.heads == 12);
    Rng rng(0);
    Bert bert(cfg, rng);
    bert.load(safetensors_load(d + "/model.safetensors"), d + "/model.safetensors");
    bert.eval();
    Tensor ids = npy_load(fixture("bert/minilm_ids.npy"), DType::I64), len = npy_load(fixture("bert/minilm_lengths.npy"), DType::I64);
    // our tokenizer gives the same ids for these captions (when the shared captions are present)
    if (file_exists(shared_data("f30k/precomp/test_caps.txt"))) {
        std::ifstream f(shared_data("f30k/precomp/test_caps.txt"));
        std::vector<std::string> caps;
        std::string line;
        while (std::getline(f, line)) caps.push_back(line);
        BertTokenizer tok(d + "/vocab.txt");
        const int64_t L = ids.size(1);
        for (int64_t b = 0; b < ids.size(0); b++) {
            std::vector<int> ours = tok.encode(caps[b * 313]);
            CHECK((int64_t)ours.size() == len.i64()[b]);
            bool same = true;
            for (size_t t = 0; t < ours.size(); t++) same = same && ours[t] == ids.i64()[b * L + t];
            CHECK(same);
        }
    }
    NoGrad ng;
    Tensor h = bert.forward(ids, len);
    Tensor pooled = sentence_embedding(h, len);
    Tensor want_h = npy_load(fixture("bert/minilm_hidden16.npy")), want_p = npy_load(fixture("bert/minilm_pooled.npy"));
    const int64_t B = h.size(0), L = h.size(1), H = h.size(2);
    double max_rel_h = 0, max_rel_p = 0, scale_h = 0;
    for (float v : want_h.to_vector()) scale_h = std::max(scale_h, (double)std::fabs(v));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < len.i64()[b]; t++)  // real tokens (padding positions differ by design in HF)
            for (int64_t k = 0; k < 16; k++)
                max_rel_h = std::max(max_rel_h, std::fabs(h.data()[(b * L + t) * H + k] - want_h.data()[(b * L + t) * 16 + k]) / scale_h);
    for (int64_t i = 0; i < pooled.numel(); i++) max_rel_p = std::max(max_rel_p, (double)std::fabs(pooled.data()[i] - want_p.data()[i]));
    MESSAGE("MiniLM vs transformers: max error " << max_rel_h << " (hidden, relative to the largest value), " << max_rel_p
                                                << " (unit-norm sentence embeddings)");
    CHECK(max_rel_h < 1e-4);
    CHECK(max_rel_p < 1e-4);
}

TEST_CASE("BERT: gradients through a tiny random encoder; names; loading errors") {
    BertConfig c;
    c.vocab_size = 12;
    c.hidden = 8;
    c.layers = 2;
    c.heads = 2;
    c.intermediate = 12;
    c.max_positions = 8;
    c.init_range = 0.2f;  // weights of the size the step sizes below were measured with (Hugging Face's 0.02 is tiny)
    Rng rng(3);
    Bert bert(c, rng);
    // Hugging Face's names
    auto names = bert.named_parameters();
    CHECK(names[0].first == "embeddings.word_embeddings.weight");
    bool found = false;
    for (auto& n : names) found = found || n.first == "encoder.layer.1.attention.output.LayerNorm.weight";
    CHECK(found);
    Tensor ids = Tensor::from_i64({2, 5}, {1, 4, 7, 2, 0, 1, 9, 2, 0, 0}), len = Tensor::from_i64({2}, {4, 3});
    // gradients w.r.t. a few weights, through every layer (dropout off). The step h must suit each
    // tensor (measured worst ratios of the tolerance): layer-0 query weights 0.23 / 1.07 / 2.26 at
    // h = 3e-3 / 1e-3 / 3e-4 (float32 rounding, growing as h shrinks); position embeddings
    // 11.1 / 1.12 / 0.08 at h = 1e-2 / 3e-3 / 1e-3 (truncation, shrinking with h). Both converge
    // on the analytic value, so each group is checked at its own step.
    GradcheckOptions deep;
    deep.h = 3e-3;
    CHECK_GRAD([&](std::vector<Tensor>&) { return bert.forward(ids, len); }, {bert.layer[0]->query.weight, bert.layer[1]->inter.bias}, deep);
    CHECK_GRAD([&](std::vector<Tensor>&) { return bert.forward(ids, len); }, {bert.emb_ln.weight, bert.position.weight});
    // padding does not change the real tokens' outputs
    Tensor ids2 = Tensor::from_i64({2, 5}, {1, 4, 7, 2, 5, 1, 9, 2, 8, 3});  // garbage in the padding
    NoGrad ng;
    Tensor h1 = bert.forward(ids, len), h2 = bert.forward(ids2, len);
    for (int64_t t = 0; t < 4; t++)
        for (int64_t k = 0; k < 8; k++) CHECK(h1.data()[t * 8 + k] == doctest::Approx(h2.data()[t * 8 + k]).epsilon(1e-6));
    // a checkpoint with a mis-shaped and a missing tensor: both listed
    auto sd = bert.state_dict();
    SafeTensors st;
    for (auto& [n, t] : sd)
        if (n != "pooler.dense.bias") st.tensors.push_back({n, n == "embeddings.LayerNorm.weight" ? Tensor::ones({9}) : t});
    st.tensors.push_back({"bert.extra.weight", Tensor::ones({2})});
    try {
        bert.load(st, "w.safetensors");
        FAIL("no error");
    } catch (const Error& e) {
        std::string s = e.what();
        CHECK(s.find("mis-shaped embeddings.LayerNorm.weight: expected (8,), found (9,)") != std::string::npos);
        CHECK(s.find("missing pooler.dense.bias") != std::string::npos);
        CHECK(s.find("unexpected bert.extra.weight") != std::string::npos);
    }
}
