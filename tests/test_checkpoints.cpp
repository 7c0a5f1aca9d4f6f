// Released checkpoints of the five reference families load and compute what the official modules
// compute. Fixtures: tools/make_checkpoint_fixtures.py ran the official encoders (vse_infty master
// and bigru, VSD, HREM, VSD_HREM) at toy sizes, saved model_best.pth the way each train.py does,
// and recorded the official eval-mode embeddings of a fixed batch.
#include <fstream>

#include "../src/data/safetensors.h"
#include "../src/train/checkpoint.h"
#include "../src/train/trainer.h"
#include "reference_fixtures.h"

namespace {

struct Family {
    const char* dir;
    const char* model;  // what the checkpoint must resolve to
    const char* text;
    bool vsd;
};
const Family kFamilies[] = {
    {"vse_infty", "gpo", "bert", false},       {"vse_infty_bigru", "gpo", "bigru", false}, {"vsd", "gpo", "bert", true},
    {"hrem", "hrem", "bert", false},           {"vsd_hrem", "hrem", "bert", true},
};

EvalConfig family_eval(const Family& f) {
    EvalConfig ec;
    ec.checkpoint = fixture(std::string("ckpt/") + f.dir + "/model_best.pth");
    ec.bert_path = fixture("torch/tiny_bert");
    ec.progress = false;
    return ec;
}

// A demo of the fixtures' sizes (16-d regions, 8-d BGE stand-ins) whose SCAN vocabulary has the 29
// words (+ <mask>) of the BiGRU fixture's embedding.
std::string family_demo() {
    static std::string root;
    if (!root.empty()) return root;
    const std::string data = toy_demo("families", 10, 12);
    std::string w2i, i2w;
    for (int i = 0; i < 29; i++) {
        const std::string w = i == 0 ? "<pad>" : i == 1 ? "<start>" : i == 2 ? "<end>" : i == 3 ? "<unk>" : "w" + std::to_string(i);
        w2i += (i ? ", \"" : "\"") + w + "\": " + std::to_string(i);
        i2w += (i ? ", \"" : "\"") + std::to_string(i) + "\": \"" + w + "\"";
    }
    std::ofstream(data + "/vocab/demo_precomp_vocab.json") << "{\"word2idx\": {" << w2i << "}, \"idx2word\": {" << i2w
                                                                   << "}, \"idx\": 29}";
    root = data;
    return root;
}

}  // namespace

TEST_CASE("released checkpoints: each of the five families maps onto our model and gives the official embeddings") {
    for (const Family& f : kFamilies) {
        CAPTURE(f.dir);
        const std::string d = std::string("ckpt/") + f.dir;
        LoadedModel lm = load_checkpoint_model(family_eval(f));
        CHECK(lm.cfg.model == f.model);
        CHECK(lm.cfg.text_encoder == f.text);
        CHECK((lm.cfg.vsd != "none") == f.vsd);
        CHECK(lm.protocol == "reference");
        Batch b;
        b.images = load_fixture(d, "in_images");
        b.img_lengths = load_fixture(d, "in_img_lengths", DType::I64);
        b.tokens = load_fixture(d, "in_tokens", DType::I64);
        b.lengths = load_fixture(d, "in_lengths", DType::I64);
        b.size = b.images.size(0);
        if (f.vsd) {
            b.desc_emb = load_fixture(d, "in_desc");
            b.cap_emb = load_fixture(d, "in_cap");
        }
        NoGrad ng;
        auto [V, T] = lm.model->forward(model_input(b));
        check_tensor(V, load_fixture(d, "out_img"), "image embeddings", 1e-5);
        check_tensor(T, load_fixture(d, "out_cap"), "caption embeddings", 1e-5);
    }
}

TEST_CASE("released checkpoints: eval on a split gives the same metrics as the same weights in our format") {
    const std::string data = family_demo();
    for (const Family& f : kFamilies) {
        CAPTURE(f.dir);
        EvalConfig ec = family_eval(f);
        ec.data_path = data;
        ec.dataset = "demo";
        EvalResult ref = evaluate_checkpoint(ec);
        CHECK(ref.n_img == 12);
        CHECK(ref.protocol == "reference");
        // the same weights, written as our checkpoint with the configuration they resolved to
        LoadedModel lm = load_checkpoint_model(ec);
        const std::string ours = temp_dir(std::string("family_") + f.dir) + "/model_best.safetensors";
        save_checkpoint(ours, *lm.model, nullptr, {{"config", lm.cfg.to_json()}});
        EvalConfig e2;
        e2.checkpoint = ours;
        e2.data_path = data;
        e2.progress = false;
        EvalResult mine = evaluate_checkpoint(e2);
        CHECK(mine.full.rsum == ref.full.rsum);
        CHECK(mine.full.i2t.r1 == ref.full.i2t.r1);
        CHECK(mine.full.t2i.r5 == ref.full.t2i.r5);
        CHECK(mine.full.i2t.meanr == ref.full.i2t.meanr);
    }
}

TEST_CASE("released checkpoints: missing and unknown tensors are one error that lists them all") {
    const Family& f = kFamilies[3];  // HREM
    LoadedModel lm = load_checkpoint_model(family_eval(f));
    const std::string dir = temp_dir("family_bad");
    save_checkpoint(dir + "/good.safetensors", *lm.model, nullptr, {{"config", lm.cfg.to_json()}});
    SafeTensors st = safetensors_load(dir + "/good.safetensors");
    SafeTensors bad;
    bad.metadata = st.metadata;
    for (auto& [n, t] : st.tensors) {
        if (n == "img_enc.fc.weight" || n == "txt_enc.linear.bias") continue;  // two missing
        bad.tensors.push_back({n == "img_enc.mlp.bns.0.weight" ? std::string("img_enc.mlp.bn0.weight") : n, t});  // renamed
    }
    bad.tensors.push_back({"txt_enc.extra", Tensor::zeros({3})});
    std::vector<std::pair<std::string, Tensor>> list(bad.tensors.begin(), bad.tensors.end());
    safetensors_save(dir + "/bad.safetensors", list, bad.metadata);
    EvalConfig ec;
    ec.checkpoint = dir + "/bad.safetensors";
    try {
        load_checkpoint_model(ec);
        FAIL("no error");
    } catch (const Error& e) {
        const std::string s = e.what();
        CHECK(s.find("5 problems") != std::string::npos);
        for (const char* want : {"missing img_enc.fc.weight", "missing txt_enc.linear.bias", "missing img_enc.mlp.bns.0.weight",
                                 "unexpected img_enc.mlp.bn0.weight", "unexpected txt_enc.extra"})
            CHECK_MESSAGE(s.find(want) != std::string::npos, want);
    }
}
