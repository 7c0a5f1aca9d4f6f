// helpers.h — shared test utilities.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../src/core/gradcheck.h"
#include "../src/ops/ops.h"

using namespace vsd;

// Gradient check with the worst element in the failure message.
#define CHECK_GRAD(...)                                            \
    do {                                                           \
        GradcheckResult r_ = gradcheck(__VA_ARGS__);               \
        CHECK_MESSAGE(r_.ok, r_.report);                           \
    } while (0)

// Values equal an expectation within atol + rtol*|expected|; the message names the element.
#define CHECK_CLOSE(got, expected, atol, rtol)                     \
    do {                                                           \
        std::string why_;                                          \
        bool ok_ = allclose((got), (expected), (atol), (rtol), &why_); \
        CHECK_MESSAGE(ok_, why_);                                  \
    } while (0)

inline Tensor T(const Shape& s, const std::vector<float>& v) { return Tensor::from(s, v); }

// Random tensor with values in [lo, hi), from a fixed seed.
inline Tensor rnd(const Shape& s, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng r(seed);
    return Tensor::rand(s, r, lo, hi);
}

// Distinct values well apart (for max/sort/topk/relu gradchecks: no ties, no kinks): a seeded
// permutation of 0.1 * (k - n/2) + 0.05, never 0.
inline Tensor distinct(const Shape& s, uint64_t seed) {
    int64_t n = shape_numel(s);
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; i++) v[i] = 0.1f * (float)(i - n / 2) + 0.05f;
    Rng r(seed);
    for (int64_t i = n - 1; i > 0; i--) std::swap(v[i], v[r.randint(i + 1)]);
    return Tensor::from(s, v);
}

// ---- files --------------------------------------------------------------------------------
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#ifndef VSD_SOURCE_DIR
#define VSD_SOURCE_DIR "."
#endif

// a whole file as a string ("" when it cannot be read)
inline std::string read_text(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return "";
    std::string s;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    std::fclose(f);
    return s;
}

inline bool file_exists(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}
// tests/fixtures/<rel>
inline std::string fixture(const std::string& rel) { return std::string(VSD_SOURCE_DIR) + "/tests/fixtures/" + rel; }
// ../shared/data/<rel> (or $VSD_SHARED_DATA/<rel>)
inline std::string shared_data(const std::string& rel) {
    const char* env = std::getenv("VSD_SHARED_DATA");
    return (env ? std::string(env) : std::string(VSD_SOURCE_DIR) + "/../shared/data") + "/" + rel;
}
// For doctest::skip(...) at registration: true (skip) when the shared file is absent, saying so.
inline bool shared_absent(const std::string& rel) {
    if (file_exists(shared_data(rel))) return false;
    std::fprintf(stderr, "note: %s is absent: skipping the tests that read it\n", shared_data(rel).c_str());
    return true;
}
// The tests' folders are /tmp/vsd_test_<tag>_<pid>; the runner (tests/main.cpp) removes this
// process's after a clean run.
inline const std::string kTestTempParent = "/tmp", kTestTempPrefix = "vsd_test_";
inline std::string test_temp_suffix() { return "_" + std::to_string(::getpid()); }
// A fresh temporary folder for a test's outputs.
inline std::string temp_dir(const std::string& tag) {
    const std::string d = kTestTempParent + "/" + kTestTempPrefix + tag + test_temp_suffix();
    std::error_code ec;  // no shell (a fork): a failure throws, naming the folder
    std::filesystem::remove_all(d, ec);
    if (!ec) std::filesystem::create_directories(d, ec);
    if (ec) throw std::runtime_error("temp_dir: cannot make a fresh " + d + ": " + ec.message());
    return d;
}

// ---- small datasets and the CI training configuration ---------------------------------------
#include "../src/train/demo.h"
#include "../src/train/trainer.h"

// A small demo dataset in a fresh folder ("data_<tag>"; run folders use other names because
// temp_dir() wipes its folder).
inline std::string small_demo_dataset(const std::string& tag, int n_train, int n_test, int feat_dim, int emb_dim) {
    DemoOptions o;
    o.data_path = temp_dir("data_" + tag);
    o.n_train = n_train;
    o.n_dev = 20;
    o.n_test = n_test;
    o.feat_dim = feat_dim;
    o.emb_dim = emb_dim;
    o.seed = 11;
    o.verbose = false;
    make_demo_dataset(o);
    return o.data_path;
}

// A toy demo in a fresh folder "data_<tag>" at the reference-checkpoint fixtures' sizes (16-d regions,
// 8-d embeddings), optionally under a release dataset name and file set (name = layout = f30k | coco).
inline std::string toy_demo(const std::string& tag, int n_train, int n_test, const std::string& name = "demo",
                            const std::string& layout = "f30k") {
    DemoOptions o;
    o.data_path = temp_dir("data_" + tag);
    o.name = name;
    o.layout = layout;
    o.n_train = n_train;
    o.n_dev = 5;
    o.n_test = n_test;
    o.feat_dim = 16;
    o.emb_dim = 8;
    o.verbose = false;
    make_demo_dataset(o);
    return o.data_path;
}

// A split of a demo dataset at `root`, with the given VSD source, and the BiGRU text front for it.
inline PrecompDataset open_demo(const std::string& root, const std::string& split, VsdSource vsd = VsdSource::None) {
    DatasetOptions o;
    o.data_path = root;
    o.dataset = "demo";
    o.split = split;
    o.vsd = vsd;
    return PrecompDataset::open(o);
}
inline TextFront demo_text(const std::string& root, const PrecompDataset& d) {
    TextFront t = TextFront::vocab(std::make_shared<Vocab>(Vocab::load_json(root + "/vocab/demo_precomp_vocab.json")));
    t.prepare(d.caps);
    return t;
}

// The short training run that CI measures (256-d regions, a 128-d model, 4 epochs): chosen so a run
// takes seconds yet learns well above chance.
inline TrainConfig ci_train_config(const std::string& data, const std::string& run) {
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.text_encoder = "bigru";
    c.logger_name = run;
    c.img_dim = 256;
    c.embed_size = 128;
    c.word_dim = 64;
    c.batch_size = 32;
    c.learning_rate = 2e-3f;
    c.num_epochs = 4;
    c.lr_update = 3;
    c.seed = 3;
    c.val_split = "test";
    c.progress = false;
    return c;
}

#include "../src/data/safetensors.h"
// Every float of a checkpoint (weights, BatchNorm statistics, optimiser moments) in file order:
// for the bit-for-bit resume and determinism checks.
inline std::vector<float> all_weights(const std::string& ckpt) {
    SafeTensors st = safetensors_load(ckpt);
    std::vector<float> w;
    for (auto& [name, t] : st.tensors)
        if (t.dtype() == DType::F32)
            for (float v : t.to_vector()) w.push_back(v);
    return w;
}
