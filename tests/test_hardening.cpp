// Hostile and unlucky inputs found by a review (fuzzing, hand-made files, bad command lines): each
// was a crash, a hang or a silent wrong answer, and is now one clear error. One check per cause.
#include <fstream>
#include <functional>

#include "../kernels/backend.h"
#include "../src/core/flags.h"
#include "../src/ops/ops.h"
#include "../src/data/safetensors.h"
#include "../src/nn/bert.h"
#include "../src/train/checkpoint.h"
#include "../src/train/trainer.h"
#include "helpers.h"

namespace {
// one training step on a small demo into a fresh run folder (a checkpoint to damage or resume)
TrainConfig one_step_run(const std::string& tag) {
    std::string data = small_demo_dataset(tag, 20, 10, 32, 16);
    TrainConfig c = ci_train_config(data, temp_dir(tag));
    c.img_dim = 32;
    c.embed_size = 16;
    c.batch_size = 8;
    c.max_steps = 1;
    c.validate = false;
    train(c);
    return c;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("hardening: flags never wrap around and numbers are finite") {
    int epochs = 25;
    float lr = 5e-4f;
    uint64_t seed = 0;
    Flags fl("prog", "test");
    fl.add("num_epochs", &epochs, "");
    fl.add("learning_rate", &lr, "");
    fl.add("seed", &seed, "");
    auto parse = [&](const char* a, const char* b) {
        const char* argv[] = {"prog", a, b};
        return error_of([&] { fl.parse(3, (char**)argv); });
    };
    CHECK(parse("--num_epochs", "4294967297").find("--num_epochs expects an integer in [") != std::string::npos);
    CHECK(epochs == 25);  // untouched (it used to become 1)
    CHECK(parse("--learning_rate", "nan").find("--learning_rate expects a finite number, got 'nan'") != std::string::npos);
    CHECK(parse("--learning_rate", "inf").find("finite number") != std::string::npos);
    CHECK(parse("--learning_rate", "1e999").find("expects a number") != std::string::npos);  // ERANGE
    CHECK(parse("--seed", "-1").find("--seed expects a non-negative integer in [0,") != std::string::npos);
    CHECK(parse("--num_epochs", "7") == "no error");
    CHECK(epochs == 7);
}

TEST_CASE("hardening: training values out of range are one error before anything is read") {
    auto finalize_error = [](std::function<void(TrainConfig&)> set) {
        TrainConfig c;
        c.data_path = "/nonexistent";
        set(c);
        return error_of([&] { c.finalize(); });
    };
    CHECK(finalize_error([](TrainConfig& c) { c.model = "hrem"; c.nhead = 0; }).find("--nhead must be at least 1") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.learning_rate = -1e-3f; }).find("--learning_rate must be positive") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.learning_rate = 0; }).find("--learning_rate must be positive") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.embed_size = 0; }).find("--embed_size must be at least 1") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.dropout = 1.5f; }).find("--dropout must be in [0, 0.999]") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.threshold = 0; }).find("--threshold must be in") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.grad_clip = -2; }).find("--grad_clip must be at least 0") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.lr_schedules = "15,x"; }).find("--lr_schedules must be comma-separated") != std::string::npos);
    CHECK(finalize_error([](TrainConfig& c) { c.sinkhorn_iterations = 0; }).find("--sinkhorn_iterations must be at least 1") != std::string::npos);
}

TEST_CASE("hardening: a BERT config with zero heads or a million layers is refused before allocating") {
    const std::string d = temp_dir("badbert");
    auto config_error = [&](const std::string& heads, const std::string& layers) {
        std::ofstream(d + "/config.json") << "{\"vocab_size\": 50, \"hidden_size\": 8, \"num_hidden_layers\": " << layers
                                          << ", \"num_attention_heads\": " << heads << ", \"intermediate_size\": 16}";
        return error_of([&] { BertConfig::from_json_file(d + "/config.json"); });
    };
    CHECK(config_error("0", "2").find("num_attention_heads is 0, expected 1..256") != std::string::npos);
    CHECK(config_error("2", "1000000").find("num_hidden_layers is 1000000, expected 1..256") != std::string::npos);
    CHECK(config_error("3", "2").find("not a multiple of num_attention_heads") != std::string::npos);
    CHECK(config_error("2", "2") == "no error");
}

TEST_CASE("hardening: empty feature arrays, empty similarity matrices and NaN similarities are errors") {
    const std::string root = temp_dir("hard_empty");
    const std::string dir = root + "/toy/precomp";
    REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
    std::ofstream(dir + "/test_caps.txt") << "a\nb\n";
    DatasetOptions o;
    o.data_path = root;
    o.dataset = "toy";
    o.split = "test";
    for (Shape s : {Shape{2, 0, 4}, Shape{0, 3, 4}, Shape{2, 3, 0}}) {
        npy_save(dir + "/test_ims.npy", Tensor::zeros(s));
        CHECK(error_of([&] { PrecompDataset::open(o); }).find("expected at least one image, region and feature") != std::string::npos);
    }
    // eval --ensemble of an empty (0 x 0) matrix: it used to divide by zero
    npy_save_raw(root + "/empty.npy", "<f8", {0, 0}, nullptr, 0);
    EvalConfig ec;
    ec.ensemble = root + "/empty.npy";
    CHECK(error_of([&] { evaluate_checkpoint(ec); }).find("expected an (images, k x images) similarity matrix") != std::string::npos);
    // a NaN similarity would rank first and give rsum 600
    std::vector<double> sims(2 * 10, 0.0);
    sims[7] = std::nan("");
    CHECK(error_of([&] { retrieval_metrics(sims, 2, 10, 5); }).find("similarity of image 0 and caption 7 is nan") != std::string::npos);
}

TEST_CASE("hardening: a damaged checkpoint's metadata or optimiser state names the file and the key") {
    const TrainConfig c = one_step_run("hard_ckpt");
    SafeTensors st = safetensors_load(c.logger_name + "/checkpoint.safetensors");
    auto resume_error = [&](const std::function<void(SafeTensors&)>& damage) {
        SafeTensors bad = st;
        damage(bad);
        const std::string p = c.logger_name + "/bad.safetensors";
        std::vector<std::pair<std::string, Tensor>> list(bad.tensors.begin(), bad.tensors.end());
        safetensors_save(p, list, bad.metadata);
        TrainConfig r = c;
        r.resume = p;
        r.max_steps = 2;
        return error_of([&] { train(r); });
    };
    CHECK(resume_error([](SafeTensors& s) { s.metadata["epoch"] = "x"; }).find("bad.safetensors: metadata 'epoch' is 'x', expected a non-negative integer") !=
          std::string::npos);
    CHECK(resume_error([](SafeTensors& s) { s.metadata.erase("global_step"); }).find("no 'global_step' in the checkpoint's metadata") !=
          std::string::npos);
    CHECK(resume_error([](SafeTensors& s) {
              for (auto& [n, t] : s.tensors)
                  if (n.rfind("optimizer.step.", 0) == 0) t = Tensor::zeros({0});
          }).find("holds 0 values, expected one") != std::string::npos);
}

TEST_CASE("hardening: embed's batch size and length are checked (an all-zero output is not written)") {
    const std::string out = temp_dir("hard_embed") + "/e.npy";
    const std::string embed = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/embed --model " + fixture("torch/tiny_bert") +
                              " --input /dev/null --output " + out;
    for (const char* bad : {" --batch_size 0", " --batch_size -1", " --max_length 0", " --max_length -1"}) {
        CAPTURE(bad);
        CHECK(std::system((embed + bad + " > /dev/null 2>&1").c_str()) != 0);
        CHECK(!file_exists(out));
    }
}

TEST_CASE("hardening: resume refuses settings that would make it inexact, unless --resume_anyway") {
    const TrainConfig c = one_step_run("hard_resume");
    TrainConfig r = c;
    r.resume = c.logger_name + "/checkpoint.safetensors";
    r.max_steps = 2;
    r.batch_size = 4;
    r.seed = 9;
    const std::string e = error_of([&] { train(r); });
    CHECK(e.find("resuming with settings that differ from the checkpoint's: --batch_size 4 (checkpoint: 8), --seed 9 (checkpoint: 3)") !=
          std::string::npos);
    r.resume_anyway = true;
    CHECK(train(r).steps == 2);
    // the demo generator writes its completion marker last
    CHECK(file_exists(c.data_path + "/demo/.complete"));
}

TEST_CASE("hardening: NaN propagates through relu, max, sort and top-k as in PyTorch, on the CPU and the (emulated) device") {
    const float nan = std::nanf("");
    // a (2, 4) input: row 0 holds a NaN, row 1 none
    Tensor x = Tensor::from({2, 4}, {1.0f, nan, 3.0f, -2.0f, 0.5f, -1.0f, 2.0f, 0.0f});
    auto same = [](const std::vector<float>& a, const std::vector<float>& b) {  // NaN equals NaN here
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); i++)
            if (!((std::isnan(a[i]) && std::isnan(b[i])) || a[i] == b[i])) return false;
        return true;
    };
    for (bool device : {false, true}) {
        CAPTURE(device);
        TestDevice dev_scope;
        Tensor t = device ? x.to(Device::CUDA) : x;
        CHECK(std::isnan(relu(t).to_vector()[1]));  // relu(NaN) is NaN, not 0
        auto [mx, arg] = max(t, 1);
        CHECK(std::isnan(mx.to_vector()[0]));  // the row's max is NaN, at its index
        CHECK(arg.to(Device::CPU).index_at(0) == 1);
        CHECK(mx.to_vector()[1] == 2.0f);
        CHECK(same(sort(t, 1, true).first.to_vector(), {nan, 3.0f, 1.0f, -2.0f, 2.0f, 0.5f, 0.0f, -1.0f}));  // NaN first
        CHECK(same(sort(t, 1, false).first.to_vector(), {-2.0f, 1.0f, 3.0f, nan, -1.0f, 0.0f, 0.5f, 2.0f}));  // NaN last
        CHECK(same(topk(t, 2, 1).first.to_vector(), {nan, 3.0f, 2.0f, 0.5f}));
    }
}

TEST_CASE("hardening: a NaN in the training or test features, or in an embedding, is one error naming file, row and column") {
    std::string data = small_demo_dataset("hard_nan_in", 20, 10, 32, 16);
    const std::string pre = data + "/demo/precomp/";
    auto plant = [&](const std::string& file, int64_t at) {
        Tensor t = npy_open(pre + file).to_tensor();
        t.data()[at] = std::nanf("");
        npy_save(pre + file, t);
    };
    plant("train_ims.npy", 3 * 36 * 32 + 5 * 32 + 7);  // image 3, region 5, feature 7
    TrainConfig c = ci_train_config(data, temp_dir("hard_nan_in"));
    c.img_dim = 32;
    c.embed_size = 16;
    c.batch_size = 8;
    c.validate = false;
    CHECK(error_of([&] { train(c); }).find("train_ims.npy: image 3, region 5, feature 7 is nan (not finite)") != std::string::npos);
    plant("test_ims.npy", 2 * 36 * 32);  // image 2, region 0, feature 0
    EvalConfig ec;
    ec.bge_only = false;
    c.check_inputs = false;  // train anyway (on images without the NaN... all, unchecked) to have a model to evaluate
    c.max_steps = 1;
    train(c);
    ec.checkpoint = c.logger_name + "/checkpoint.safetensors";
    ec.progress = false;
    CHECK(error_of([&] { evaluate_checkpoint(ec); }).find("test_ims.npy: image 2, region 0, feature 0 is nan") != std::string::npos);
    // an embedding row
    plant("test_cap_bge.npy", 4 * 16 + 9);
    ec.bge_only = true;
    ec.data_path = data;
    ec.dataset = "demo";
    ec.vsd = "cpm";
    ec.checkpoint = "";
    CHECK(error_of([&] { evaluate_checkpoint(ec); }).find("test_cap_bge.npy: row 4, column 9 is nan (not finite)") != std::string::npos);
}

TEST_CASE("hardening: nothing half-done: stale temporaries of dead writers go, the run folder waits for validation") {
    // a writer killed between open and rename left `<path>.tmp.<pid>`; the next write of that path removes it
    const std::string dir = temp_dir("hard_tmp");
    make_dirs(dir);
    const std::string dead = dir + "/run.json.tmp.2147483646", live = dir + "/run.json.tmp." + std::to_string(getppid());
    const std::string other = dir + "/other.json.tmp.2147483646";
    for (const std::string& f : {dead, live, other}) write_file_atomic(f, "torn");
    write_file_atomic(dir + "/run.json", "{}\n");
    CHECK(!file_exists(dead));   // its process is gone
    CHECK(file_exists(live));    // a live process may still be writing it
    CHECK(file_exists(other));   // another file's temporary is not this write's business
    // a run refused at resume time (settings differ) leaves no run folder behind
    const TrainConfig c = one_step_run("hard_nofolder");
    TrainConfig r = c;
    r.resume = c.logger_name + "/checkpoint.safetensors";
    r.logger_name = temp_dir("hard_nofolder_new") + "/run";
    r.seed = 11;
    CHECK(error_of([&] { train(r); }).find("differ from the checkpoint's") != std::string::npos);
    CHECK(!file_exists(r.logger_name));
}
