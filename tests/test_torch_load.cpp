// PyTorch checkpoints written by torch itself (tools/make_torch_fixtures.py): values, the
// allow-list, Hugging Face pytorch_model.bin, and the reference's model_best.pth in our eval.
#include <fstream>

#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "../src/data/torch_load.h"
#include "../src/nn/bert.h"
#include "../src/train/checkpoint.h"
#include "helpers.h"

TEST_CASE("torch_load: float16, non-contiguous views, int64, shared storages") {
    SafeTensors st = torch_load(fixture("torch/misc.pth"));
    CHECK(st.find("h")->to_vector() == std::vector<float>{1.5f, -2.0f, 65504.0f});
    const Tensor* t = st.find("t");  // base.t(): t[i][j] = base[j][i] = 4j + i
    REQUIRE(t->shape() == Shape{4, 3});
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) CHECK(t->data()[i * 3 + j] == (float)(4 * j + i));
    CHECK(st.find("i")->i64()[0] == int64_t(1) << 40);  // exact, as int64
    CHECK(st.find("i")->i64()[1] == -3);
    CHECK(st.find("a")->to_vector() == std::vector<float>{4, 5, 6, 7});  // views into one storage
    CHECK(st.find("b")->to_vector() == std::vector<float>{9, 10});
}

TEST_CASE("torch_load: anything outside the allow-list is refused, never executed; broken files are errors") {
    CHECK_THROWS_WITH(torch_load(fixture("torch/evil.pth")), doctest::Contains("refusing the global posix.system"));
    std::string d = temp_dir("torchbad");
    std::ifstream in(fixture("torch/misc.pth"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d + "/trunc.pth", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_WITH(torch_load(d + "/trunc.pth"), doctest::Contains("trunc.pth"));
    CHECK_THROWS_WITH(torch_load(d + "/none.pth"), doctest::Contains("cannot open"));
    std::ofstream(d + "/junk.bin", std::ios::binary) << "not a checkpoint at all";
    CHECK_FALSE(is_torch_checkpoint(d + "/junk.bin"));
    CHECK_THROWS_AS(load_weights_file(d + "/junk.bin"), vsd::Error);
}

TEST_CASE("torch_load: a Hugging Face pytorch_model.bin runs in our BERT with torch's outputs") {
    const std::string dir = fixture("torch/tiny_bert");
    CHECK(find_model_weights(dir).find("pytorch_model.bin") != std::string::npos);
    Rng rng(0);
    Bert bert(BertConfig::from_json_file(dir + "/config.json"), rng);
    bert.load(load_weights_file(find_model_weights(dir)), "tiny_bert");
    bert.eval();
    Tensor ids = npy_load(fixture("torch/tiny_bert_ids.npy"), DType::I64);
    Tensor len = Tensor::from_i64({2}, {5, 3});
    NoGrad ng;
    Tensor h = bert.forward(ids, len), want = npy_load(fixture("torch/tiny_bert_hidden.npy"));
    for (int64_t b = 0; b < 2; b++)
        for (int64_t t = 0; t < len.i64()[b]; t++)
            for (int64_t k = 0; k < 8; k++) {
                const int64_t o = (b * 6 + t) * 8 + k;
                CHECK(h.data()[o] == doctest::Approx(want.data()[o]).epsilon(1e-5));
            }
}

TEST_CASE("the reference's model_best.pth: every tensor, its metadata, and the same metrics as our own checkpoint") {
    SafeTensors st = torch_load(fixture("torch/model_best.pth"));
    CHECK(st.metadata.at("epoch") == "3");
    CHECK(st.metadata.at("opt.data_name") == "f30k");
    CHECK(std::stod(st.metadata.at("best_rsum")) == 512.25);  // a numpy float64, decoded from its bytes
    Json want = Json::parse_file(fixture("torch/model_best.json"));
    int checked = 0;
    for (auto& [name, v] : want.members()) {
        std::string ref = (name.rfind("img_enc.", 0) == 0 ? "model.0." : "model.1.") + name.substr(8);
        const Tensor* t = st.find(ref);
        REQUIRE_MESSAGE(t, ref);
        double s = 0;
        for (float x : t->to_vector()) s += x;
        CHECK(s == doctest::Approx(v[1].as_double()).epsilon(1e-5));
        checked++;
    }
    CHECK(checked > 40);
    // end to end: a tiny dataset of the checkpoint's sizes (16-d regions, 8-d embeddings)
    const std::string data = toy_demo("refckpt", 20, 10);
    EvalConfig ec;
    ec.checkpoint = fixture("torch/model_best.pth");
    ec.data_path = data;
    ec.dataset = "demo";
    ec.bert_path = fixture("torch/tiny_bert");
    ec.progress = false;
    EvalResult ref = evaluate_checkpoint(ec);
    CHECK(ref.n_img == 10);
    // the same weights as our checkpoint (converted by name) give exactly the same metrics
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.text_encoder = "bert";
    c.bert_path = ec.bert_path;
    c.img_dim = 16;
    c.embed_size = 8;
    c.finalize();
    ModelConfig mc;
    mc.text_encoder = "bert";
    mc.img_dim = 16;
    mc.embed_size = 8;
    mc.bert = BertConfig::from_json_file(ec.bert_path + "/config.json");
    Rng rng(1);
    VSEModel model(mc, rng);
    SafeTensors renamed;
    for (auto& [n, t] : st.tensors)
        renamed.tensors.push_back({(n.rfind("model.0.", 0) == 0 ? "img_enc." : "txt_enc.") + n.substr(8), t});
    load_model_weights(model, renamed, "model_best.pth");
    const std::string ours = temp_dir("refckpt") + "/converted.safetensors";
    save_checkpoint(ours, model, nullptr, {{"config", c.to_json()}});
    EvalConfig e2;
    e2.checkpoint = ours;
    e2.progress = false;
    EvalResult mine = evaluate_checkpoint(e2);
    CHECK(mine.full.rsum == doctest::Approx(ref.full.rsum).epsilon(1e-12));
    CHECK(mine.full.i2t.r1 == doctest::Approx(ref.full.i2t.r1).epsilon(1e-12));
}

TEST_CASE("safetensors: F16, BF16, F32, I64 from the safetensors library itself; broken files are errors") {
    SafeTensors st = safetensors_load(fixture("torch/dtypes.safetensors"));
    CHECK(st.metadata.at("who") == "safetensors");
    CHECK(st.find("h")->to_vector() == std::vector<float>{1.5f, -2.0f, 65504.0f});
    std::vector<float> b = st.find("b")->to_vector();
    CHECK(b[0] == 1.5f);
    CHECK(b[1] == -3.0f);
    CHECK(b[2] == doctest::Approx(1e30).epsilon(1e-2));  // bfloat16 keeps 8 bits of mantissa
    CHECK(st.find("f")->shape() == Shape{1, 2});
    CHECK(st.find("i")->i64()[0] == int64_t(1) << 40);
    std::ifstream in(fixture("torch/dtypes.safetensors"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::string d = temp_dir("stbad");
    std::ofstream(d + "/trunc.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() - 8);
    CHECK_THROWS_WITH(safetensors_load(d + "/trunc.safetensors"), doctest::Contains("do not hold"));
    std::ofstream(d + "/hdr.safetensors", std::ios::binary) << bytes.substr(0, 20);
    CHECK_THROWS_WITH(safetensors_load(d + "/hdr.safetensors"), doctest::Contains("does not fit in the file"));
}
