// PyTorch checkpoints written by torch itself (tools/make_torch_fixtures.py): values, the
// allow-list, Hugging Face pytorch_model.bin, and the reference's model_best.pth in our eval.
#include <fstream>

#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "../src/data/torch_load.h"
#include "../src/nn/bert.h"
#include "../src/train/checkpoint.h"
#include "helpers.h"

using namespace std::string_literals;

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

// CI failed on this twice: our checkpoint's header (its config holds the run's paths) came to 0x4B50
// bytes for one process id, so the file began "PK" and was read as a zip. Here a metadata string is
// lengthened until the header is exactly that long, as the safetensors writer pads it.
TEST_CASE("a safetensors file whose header is 0x4B50 bytes long (it starts \"PK\") is not taken for a zip") {
    const std::string d = temp_dir("pk_header");
    const std::string path = d + "/checkpoint.safetensors";
    const Tensor w = Tensor::from({2}, {1.5f, -2.0f});
    auto header_length = [&] {
        std::ifstream f(path, std::ios::binary);
        uint64_t n = 0;
        f.read(reinterpret_cast<char*>(&n), 8);
        return n;
    };
    size_t pad = 19000;
    for (; pad < 19400; pad++) {
        safetensors_save(path, {{"w", w}}, {{"config", std::string(pad, 'x')}});
        if (header_length() == 0x4B50) break;
    }
    REQUIRE(header_length() == 0x4B50);
    CHECK_FALSE(is_torch_checkpoint(path));
    const SafeTensors st = load_weights_file(path);
    CHECK(st.find("w")->to_vector() == std::vector<float>{1.5f, -2.0f});
    CHECK(st.metadata.at("config").size() == pad);
    CHECK(is_torch_checkpoint(fixture("torch/misc.pth")));  // a real torch.save zip still is one
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

// ---- hostile checkpoints: each rule of the reader, with the reproducer bytes ------------------------
namespace {
void put16(std::string& s, uint32_t v) { s += (char)(v & 255); s += (char)((v >> 8) & 255); }
void put32(std::string& s, uint32_t v) { put16(s, v & 0xffff); put16(s, v >> 16); }
// A stored (uncompressed) zip of the entries; `extra` is the central-directory extra field of entry 0.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries, const std::string& extra = "",
                   uint32_t local0 = 0) {
    std::string out, cd;
    for (size_t k = 0; k < entries.size(); k++) {
        const auto& [name, data] = entries[k];
        const uint32_t off = (uint32_t)out.size();
        put32(out, 0x04034b50), put16(out, 20), put16(out, 0), put16(out, 0), put16(out, 0), put16(out, 0);
        put32(out, 0), put32(out, data.size()), put32(out, data.size()), put16(out, name.size()), put16(out, 0);
        out += name + data;
        const std::string x = k == 0 ? extra : "";
        put32(cd, 0x02014b50), put16(cd, 20), put16(cd, 20), put16(cd, 0), put16(cd, 0), put16(cd, 0), put16(cd, 0);
        put32(cd, 0), put32(cd, data.size()), put32(cd, data.size()), put16(cd, name.size()), put16(cd, x.size());
        put16(cd, 0), put16(cd, 0), put16(cd, 0), put32(cd, 0), put32(cd, k == 0 && local0 ? local0 : off);
        cd += name + x;
    }
    const uint32_t at = (uint32_t)out.size();
    out += cd;
    put32(out, 0x06054b50), put16(out, 0), put16(out, 0), put16(out, entries.size()), put16(out, entries.size());
    put32(out, cd.size()), put32(out, at), put16(out, 0);
    return out;
}
// torch_load of a checkpoint whose data.pkl is `pkl` (protocol-2 opcodes) and whose storage "0" holds 16 bytes
std::string load_error(const std::string& pkl, const std::string& tag) {
    const std::string p = temp_dir("hostile") + "/" + tag + ".pth";
    std::ofstream(p, std::ios::binary) << zip_of({{"a/data.pkl", pkl}, {"a/data/0", std::string(16, '\0')}});
    try {
        torch_load(p);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
// _rebuild_tensor_v2(storage "0" of 4 floats, offset 0, size, stride)
std::string rebuild(const std::string& size, const std::string& stride) {
    return "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0"
           "X\x03\x00\x00\x00" "cpuK\x04tQK\x00("s + size + "t(" + stride + "tNtR.";
}
}  // namespace

TEST_CASE("torch_load: hostile pickles and zips are one clear error each (reproducer bytes), never a crash") {
    // a well-formed one passes, so the cases below fail for their own reason
    const std::string good = rebuild("K\x02K\x02", "K\x02K\x01");
    CHECK(load_error("}X\x01\x00\x00\x00w"s + good.substr(0, good.size() - 1) + "s.", "ok") == "no error");
    // pickle: an opcode that needs the stack's top, on an empty stack
    for (std::string op : {"q\x00"s, "r\x00\x00\x00\x00"s, "\x94"s, "b"s, "a"s, "s"s, "u"s, "e"s})
        CHECK(load_error("(" + op + ".", "empty" + std::to_string((int)(unsigned char)op[0])).find("data.pkl at byte") != std::string::npos);
    CHECK(load_error("q\x00."s, "binput").find("stack underflow") != std::string::npos);
    // LONG1 of 9 bytes (a shift of 64 bits)
    CHECK(load_error("\x8a\x09" + std::string(9, '\x01') + ".", "long1").find("a 9-byte integer") != std::string::npos);
    // strides shorter than sizes; sizes far beyond the storage (before anything is allocated)
    CHECK(load_error(rebuild("K\x02K\x02", "K\x01"), "stride").find("a tensor with 2 sizes but 1 strides") != std::string::npos);
    CHECK(load_error(rebuild("J\x00\xe1\xf5\x05J\x00\xe1\xf5\x05"s, "J\x00\xe1\xf5\x05K\x01"s), "huge").find("larger than 64 GiB") != std::string::npos);
    CHECK(load_error(rebuild("J\xa0\x86\x01\x00"s, "K\x01"), "outside").find("tensor data outside its storage 0") != std::string::npos);
    // a list that contains itself; nesting 10^4 deep; a "billion laughs" of shared references (2^40 leaves)
    CHECK(load_error("]q\x00h\x00" "a."s, "cycle").find("contains itself") != std::string::npos);
    CHECK(load_error(std::string(10000, ']') + std::string(9999, 'a') + ".", "deep").find("nested deeper than 64") != std::string::npos);
    std::string laughs = "K\x01q\x00"s;
    for (int k = 0; k < 40; k++) laughs += "h\x00h\x00\x86q\x00"s;
    CHECK(load_error(laughs + ".", "laughs").find("more than 2^20 objects") != std::string::npos);
    // zip: an extra field running past its record, a zip64 offset that wraps, two data.pkl, one name twice
    const std::string dir = temp_dir("hostile_zip");
    auto zip_error = [&](const std::string& bytes, const std::string& tag) {
        std::ofstream(dir + "/" + tag, std::ios::binary) << bytes;
        try {
            torch_load(dir + "/" + tag);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    std::string extra;
    put16(extra, 0x0001), put16(extra, 40000);  // claims 40,000 bytes
    CHECK(zip_error(zip_of({{"a/data.pkl", "N."}}, extra), "xfield").find("runs past") != std::string::npos);
    std::string z64;
    put16(z64, 0x0001), put16(z64, 8), put32(z64, 0xfffffff0u), put32(z64, 0xffffffffu);  // local header at 2^64 - 16
    CHECK(zip_error(zip_of({{"a/data.pkl", "N."}}, z64, 0xffffffffu), "wrap").find("broken local header") != std::string::npos);
    CHECK(zip_error(zip_of({{"a/data.pkl", "N."}, {"b/data.pkl", "N."}}), "two").find("two entries end in /data.pkl") != std::string::npos);
    CHECK(zip_error(zip_of({{"a/data.pkl", "N."}, {"a/data.pkl", "N."}}), "dup").find("appears twice") != std::string::npos);
}
