// Training end to end on a tiny demo: exact resume, determinism, learning, evaluation, errors.
#include <dirent.h>

#include <fstream>
#include <sstream>

#include "../src/data/json.h"
#include "../src/data/safetensors.h"
#include "../src/train/checkpoint.h"
#include "../src/train/trainer.h"
#include <map>

#include "helpers.h"

// A small demo and a small model, so that a few steps take well under a second.
static std::string small_demo(const std::string& tag, int n_train = 60, int n_test = 40, int feat_dim = 128) {
    static std::map<std::string, std::string> made;
    std::string key = tag + std::to_string(n_train) + "_" + std::to_string(n_test) + "_" + std::to_string(feat_dim);
    if (!made.count(key)) made[key] = small_demo_dataset(tag, n_train, n_test, feat_dim, 32);
    return made[key];
}

static TrainConfig small_config(const std::string& data, const std::string& run) {
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.text_encoder = "bigru";
    c.logger_name = run;
    c.img_dim = 128;
    c.embed_size = 32;
    c.word_dim = 16;
    c.batch_size = 16;
    c.num_epochs = 1;
    c.validate = false;
    c.progress = false;
    c.seed = 3;
    return c;
}

TEST_CASE("train: 2 steps + save + resume + 2 steps gives exactly the weights of 4 steps") {
    std::string data = small_demo("resume");
    for (std::string loss : {"vse", "trip"}) {
        CAPTURE(loss);
        TrainConfig a = small_config(data, temp_dir("runA" + loss));
        a.loss_type = loss;
        a.max_steps = 4;
        train(a);
        TrainConfig b = small_config(data, temp_dir("runB" + loss));
        b.loss_type = loss;
        b.max_steps = 2;
        train(b);
        TrainConfig c = small_config(data, temp_dir("runC" + loss));
        c.loss_type = loss;
        c.max_steps = 4;
        c.resume = b.logger_name + "/checkpoint.safetensors";
        train(c);
        std::vector<float> wa = all_weights(a.logger_name + "/checkpoint.safetensors");
        std::vector<float> wc = all_weights(c.logger_name + "/checkpoint.safetensors");
        std::vector<float> wb = all_weights(b.logger_name + "/checkpoint.safetensors");
        REQUIRE(wa.size() == wc.size());
        CHECK(wa == wc);  // bit for bit (weights, BN statistics and optimiser moments)
        CHECK(wa != wb);  // and the steps really changed something
        SafeTensors st = safetensors_load(c.logger_name + "/checkpoint.safetensors");
        CHECK(st.metadata.at("global_step") == "4");
        CHECK(st.metadata.at("adam_steps") == "4");
    }
}

TEST_CASE("train: the same seed gives the same weights; another seed does not") {
    std::string data = small_demo("seed");
    TrainConfig a = small_config(data, temp_dir("seedA")), b = small_config(data, temp_dir("seedB"));
    TrainConfig c = small_config(data, temp_dir("seedC"));
    a.max_steps = b.max_steps = c.max_steps = 2;
    c.seed = 4;
    train(a);
    train(b);
    train(c);
    CHECK(all_weights(a.logger_name + "/checkpoint.safetensors") == all_weights(b.logger_name + "/checkpoint.safetensors"));
    CHECK(all_weights(a.logger_name + "/checkpoint.safetensors") != all_weights(c.logger_name + "/checkpoint.safetensors"));
    // without validation, a run stopped by --max_steps leaves model_best too: its last weights
    const SafeTensors last = safetensors_load(a.logger_name + "/checkpoint.safetensors");
    const SafeTensors best = safetensors_load(a.logger_name + "/model_best.safetensors");
    REQUIRE(best.tensors.size() > 0);
    for (const auto& [name, t] : best.tensors) {
        CAPTURE(name);
        REQUIRE(last.find(name));
        CHECK(t.to_vector() == last.find(name)->to_vector());
    }
}

TEST_CASE("train: a short run learns far above chance, and eval reproduces its validation") {
    // 300 training images, 100 test images, 256-d regions, a 128-d model: chance rsum is about 85
    // (i2t R@10 alone is ~41 by chance with 5 captions per image). Measured: 325.4 after 4 epochs
    // (seed 3, ~4 s); the threshold keeps a wide margin below that.
    std::string data = small_demo("learn", 300, 100, 256);
    TrainConfig c = ci_train_config(data, temp_dir("learn"));
    TrainResult r = train(c);
    MESSAGE("tiny demo, 4 epochs: test rsum " << r.last_val.rsum);
    CHECK(r.last_val.rsum > 250.0);
    EvalConfig ec;
    ec.checkpoint = c.logger_name + "/checkpoint.safetensors";
    ec.split = "test";
    ec.progress = false;
    ec.save_sims = c.logger_name + "/sims.npy";
    EvalResult e = evaluate_checkpoint(ec);
    CHECK(e.full.rsum == doctest::Approx(r.last_val.rsum).epsilon(1e-9));
    CHECK(e.n_img == 100);
    // the ensemble of a matrix with itself is the matrix
    EvalConfig en;
    en.ensemble = ec.save_sims + "," + ec.save_sims;
    CHECK(evaluate_checkpoint(en).full.rsum == doctest::Approx(r.last_val.rsum).epsilon(1e-9));
}

TEST_CASE("train/eval: bad input is one clear error") {
    std::string data = small_demo("bad");
    TrainConfig c = small_config(data, temp_dir("bad"));
    c.dataset = "f30k";
    CHECK_THROWS_WITH(train(c), doctest::Contains("dataset 'f30k', split 'train': no caption file found"));
    c = small_config(data, temp_dir("bad2"));
    c.img_dim = 2048;
    CHECK_THROWS_WITH(train(c), doctest::Contains("--img_dim 2048 does not match the region features (128)"));
    c = small_config(data, temp_dir("bad3"));
    c.loss_type = "hinge";
    CHECK_THROWS_WITH(train(c), doctest::Contains("--loss_type must be vse or trip"));
    // a checkpoint that does not fit the model lists every problem
    c = small_config(data, temp_dir("bad4"));
    c.max_steps = 1;
    train(c);
    Rng rng(0);
    ModelConfig mc;
    mc.img_dim = 128;
    mc.embed_size = 64;  // trained with 32
    mc.word_dim = 16;
    mc.vocab_size = 200;
    VSEModel other(mc, rng);
    SafeTensors st = safetensors_load(c.logger_name + "/checkpoint.safetensors");
    try {
        load_model_weights(other, st, "ckpt");
        FAIL("no error");
    } catch (const Error& e) {
        std::string s = e.what();
        CHECK(s.find("mis-shaped img_enc.fc.weight: expected (64, 128), found (32, 128)") != std::string::npos);
        CHECK(s.find("mis-shaped txt_enc.embed.weight") != std::string::npos);
    }
    CHECK_THROWS_WITH(safetensors_load(c.logger_name + "/nope.safetensors"), doctest::Contains("cannot open"));
}

TEST_CASE("train with the BERT text encoder: learns, resumes exactly with dropout, evaluates the same") {
    // Measured with this setup (a random 2-layer BERT, 128-d): test rsum 266.0 after 4 epochs.
    std::string data = small_demo("bert", 300, 100, 256);
    TrainConfig c = ci_train_config(data, temp_dir("bert_learn"));
    c.text_encoder = "bert";
    c.bert_path = data + "/demo/bert";
    TrainResult r = train(c);
    MESSAGE("tiny demo, BERT text encoder, 4 epochs: test rsum " << r.last_val.rsum);
    CHECK(r.last_val.rsum > 180.0);
    EvalConfig ec;
    ec.checkpoint = c.logger_name + "/checkpoint.safetensors";
    ec.progress = false;
    CHECK(evaluate_checkpoint(ec).full.rsum == doctest::Approx(r.last_val.rsum).epsilon(1e-9));
    // 2 + 2 steps = 4 steps, bit for bit, with BERT's dropout active
    auto run = [&](const std::string& tag, int64_t steps, const std::string& resume) {
        TrainConfig t = ci_train_config(data, temp_dir(tag));
        t.text_encoder = "bert";
        t.bert_path = data + "/demo/bert";
        t.validate = false;
        t.max_steps = steps;
        t.resume = resume;
        train(t);
        return t.logger_name + "/checkpoint.safetensors";
    };
    std::string four = run("bert4", 4, ""), two = run("bert2", 2, ""), resumed = run("bert22", 4, two);
    CHECK(all_weights(four) == all_weights(resumed));
    SafeTensors st = safetensors_load(four);
    CHECK(st.find("txt_enc.bert.encoder.layer.1.output.LayerNorm.weight") != nullptr);  // vse_infty's names
    CHECK(st.find("txt_enc.linear.weight") != nullptr);
}

// The 12 paper rows (6 models x F30K, COCO), each from one command without extra flags, resolve to
// the reference's recipe. The expected table is written from the run scripts and arguments.py of
// each reference (paper-notes §4.1-4.2): vse_infty train_region.sh (GPO), VSD run_{f30k,coco}.sh (GPO+VSD),
// HREM's README commands (HREM), VSD_HREM run_{f30k,coco}.sh (HREM+VSD).
TEST_CASE("recipes: the 12 paper rows resolve to the reference's configuration (train --dry_run)") {
    struct Row {
        const char *model, *vsd, *dataset;
        int64_t batch;
        int epochs;
        const char* decays;  // lr_schedules ("" = lr_update only)
        const char* loss;
        float bert_lr, mask_weight;
        int vse_warmup;
        const char *cap_emb, *protocol;
    };
    const Row rows[] = {
        // GPO: vse_infty (BERT): batch 128 on COCO too, 25 epochs, lr_update 15, VSE++ with 1 warm-up epoch
        {"gpo", "none", "f30k", 128, 25, "", "vse", 0.1f, 1.0f, 1, "cap_bge", "best_on_dev"},
        {"gpo", "none", "coco", 128, 25, "", "vse", 0.1f, 1.5f, 1, "cap_bge", "best_on_dev"},
        // GPO+VSD: VSD's scripts: batch 128 / 256, 25 epochs, [15, 25], trip, BERT x0.05, last epoch
        {"gpo", "flor", "f30k", 128, 25, "15,25", "trip", 0.05f, 1.0f, 0, "cap_bge", "last_epoch"},
        {"gpo", "flor", "coco", 256, 25, "15,25", "trip", 0.05f, 1.5f, 0, "cap_bge", "last_epoch"},
        {"gpo", "cpm", "f30k", 128, 25, "15,25", "trip", 0.05f, 1.0f, 0, "cap_bge", "last_epoch"},
        {"gpo", "cpm", "coco", 256, 25, "15,25", "trip", 0.05f, 1.5f, 0, "cap_bge", "last_epoch"},
        // HREM: its README: batch 128 / 256, mask_weight 1.0 / 1.5, 30 epochs (default), [15, 25], BERT x0.1
        {"hrem", "none", "f30k", 128, 30, "15,25", "trip", 0.1f, 1.0f, 1, "cap_bge_cpm", "best_on_dev"},
        {"hrem", "none", "coco", 256, 30, "15,25", "trip", 0.1f, 1.5f, 1, "cap_bge_cpm", "best_on_dev"},
        // HREM+VSD: VSD_HREM's scripts: 25 epochs, [15, 25], BERT x0.05, _cap_bge_cpm.npy, last epoch
        {"hrem", "flor", "f30k", 128, 25, "15,25", "trip", 0.05f, 1.0f, 1, "cap_bge_cpm", "last_epoch"},
        {"hrem", "flor", "coco", 256, 25, "15,25", "trip", 0.05f, 1.5f, 1, "cap_bge_cpm", "last_epoch"},
        {"hrem", "cpm", "f30k", 128, 25, "15,25", "trip", 0.05f, 1.0f, 1, "cap_bge_cpm", "last_epoch"},
        {"hrem", "cpm", "coco", 256, 25, "15,25", "trip", 0.05f, 1.5f, 1, "cap_bge_cpm", "last_epoch"},
    };
    std::map<std::string, std::string> data;  // the demo under the release's names, exactly its files
    for (const char* ds : {"f30k", "coco"}) data[ds] = toy_demo(std::string("recipe_") + ds, 10, 10, ds, ds);
    for (const Row& r : rows) {
        TrainConfig c;  // as `make train DATASET=... MODEL=... VSD=...` builds it: nothing else set
        c.model = r.model;
        c.vsd = r.vsd;
        c.dataset = r.dataset;
        c.data_path = data[r.dataset];
        c.finalize();
        CAPTURE(c.row_name());
        CAPTURE(r.dataset);
        CHECK(c.text_encoder == "bert");
        CHECK(c.batch_size == r.batch);
        CHECK(c.num_epochs == r.epochs);
        CHECK(c.lr_update == 15);
        CHECK(c.lr_schedules == r.decays);
        CHECK(c.loss_type == r.loss);
        CHECK(c.learning_rate == 5e-4f);
        CHECK(c.bert_lr_factor == r.bert_lr);
        CHECK(c.weight_decay == 1e-4f);
        CHECK(c.grad_clip == 2.0f);
        CHECK(c.margin == 0.2f);
        CHECK(c.vse_mean_warmup_epochs == r.vse_warmup);
        CHECK(!c.mask_repeat);  // VSE++: the diagonal only, as vse_infty
        CHECK(c.trip_cutoff == (std::string(r.dataset) == "coco" ? 1.9f : 1.7f));
        CHECK(c.proto == (std::string(r.vsd) != "none" ? 1 : 0));
        CHECK(c.protocol() == r.protocol);
        CHECK(c.val_split == (std::string(r.protocol) == "best_on_dev" ? "dev" : (std::string(r.dataset) == "coco" ? "testall" : "test")));
        if (std::string(r.vsd) != "none") CHECK(c.cap_emb == r.cap_emb);
        if (std::string(r.model) == "hrem") {
            CHECK(c.mask_weight == r.mask_weight);
            CHECK(c.warmup == 8000);
            CHECK(c.connections == "intra");
        }
    }
    // the BiGRU text encoder stays available (vse_infty's bigru branch: AdamW's default decay 0.01)
    TrainConfig g;
    g.dataset = "f30k";
    g.data_path = data["f30k"];
    g.text_encoder = "bigru";
    g.finalize();
    CHECK(g.weight_decay == 0.01f);
    CHECK(g.protocol() == "best_on_dev");
    // HREM's own protocol, by flag: select the best epoch on the test split, labelled so
    TrainConfig h;
    h.model = "hrem";
    h.dataset = "f30k";
    h.data_path = data["f30k"];
    h.val_split = "test";
    h.finalize();
    CHECK(h.protocol() == "best_on_test");
    // where dev has the embeddings (tools/embed can make them), VSD selects on dev
    const std::string pre = data["f30k"] + "/f30k/precomp/";
    for (const char* f : {"dev_aux_cap_bge_cpm_full_1.npy", "dev_cap_bge.npy"})
        CHECK(std::system(("cp " + pre + "test_cap_bge.npy " + pre + f).c_str()) == 0);
    TrainConfig v;
    v.vsd = "cpm";
    v.dataset = "f30k";
    v.data_path = data["f30k"];
    v.finalize();
    CHECK(v.protocol() == "best_on_dev");
}

// Overwrite the float32 .npy at `path` (a v1 file written by our writer) with NaN at element `at`
// of every `stride`-th block.
static void plant_nan(const std::string& path, int64_t every_image, int64_t per_image) {
    NpyArray a = npy_open(path);
    Tensor t = a.to_tensor();
    for (int64_t i = 0; i < t.size(0); i += every_image) t.data()[i * per_image + 3] = std::nanf("");
    npy_save(path, t);
}

TEST_CASE("non-finite loss: the update is skipped and named (BatchNorm statistics kept clean); 10 in a row stop the run") {
    // a demo whose training features hold a NaN in every `every`-th image, and its run's config
    auto nan_run = [](const std::string& tag, int64_t every) {
        std::string data = small_demo_dataset(tag, 60, 20, 32, 16);
        const std::string ims = data + "/demo/precomp/train_ims.npy";
        NpyArray a = npy_open(ims);
        plant_nan(ims, every, a.shape[1] * a.shape[2]);
        TrainConfig c = small_config(data, temp_dir(tag));
        c.img_dim = 32;
        c.embed_size = 16;
        c.check_inputs = false;  // the loader would name the NaN at once (tests/test_hardening.cpp); here it must reach the loss
        return c;
    };
    // one image with a NaN feature: every batch that holds one of its captions has a NaN loss
    // (BatchNorm mixes the batch). Those updates are skipped, the rest train, the weights stay finite.
    {
        TrainConfig c = nan_run("nan_one", 1000);  // image 0 only
        c.num_epochs = 2;
        train(c);
        std::string log;
        {
            std::ifstream f(c.logger_name + "/train.log");
            std::stringstream ss;
            ss << f.rdbuf();
            log = ss.str();
        }
        CHECK(log.find("non-finite loss (matching = nan); images") != std::string::npos);  // NaN propagates to the loss
        CHECK(log.find("update skipped") != std::string::npos);
        CHECK(log.find("| loss ") != std::string::npos);  // and other steps trained
        for (float w : all_weights(c.logger_name + "/checkpoint.safetensors")) REQUIRE(std::isfinite(w));
    }
    // every image NaN: 10 skipped steps in a row end the run with one clear error naming the term
    {
        TrainConfig c = nan_run("nan_all", 1);
        CHECK_THROWS_WITH(train(c), doctest::Contains("10 steps in a row had a non-finite loss or gradient (last: epoch 1 step 10, loss (matching = nan))"));
    }
}

// On the device without --trace the host does not read each step: the device skips a non-finite
// step itself (no update, BatchNorm's statistics restored from a copy, the Adam step counts leave it
// out), and the loss and the norm are read back on log steps. The result must be the run that reads
// every step (--trace takes that path), bit for bit, skipped steps included.
TEST_CASE("device training reads back only on log steps, and skips non-finite steps on the device: the same run") {
    std::string data = small_demo_dataset("deferred", 60, 20, 32, 16);
    const std::string ims = data + "/demo/precomp/train_ims.npy";
    plant_nan(ims, 1000, npy_open(ims).shape[1] * npy_open(ims).shape[2]);  // image 0: its batches are skipped
    auto run = [&](const std::string& tag, bool read_every_step) {
        TrainConfig c = small_config(data, temp_dir(tag));
        c.img_dim = 32;
        c.embed_size = 16;
        c.check_inputs = false;
        c.max_steps = 12;  // of 18 a epoch: image 0's captions fall in 4 of them (the test counts them)
        c.log_step = 5;    // reads at steps 5, 10 and 12
        c.device = cuda_available() ? "cuda" : "emulator";
        if (read_every_step) c.trace = c.logger_name + "/trace.jsonl";
        train(c);
        use_emulated_device(false);
        return c.logger_name;
    };
    const std::string every = run("deferred_every", true), deferred = run("deferred_logsteps", false);
    auto losses = [](const std::string& dir) {  // the loss of every updated step, and the skip lines
        std::ifstream f(dir + "/train.log");
        std::vector<std::string> r;
        for (std::string line; std::getline(f, line);) {
            const size_t at = line.find("| loss ");
            if (at != std::string::npos) r.push_back(line.substr(0, line.find(" | lr", at)));
            else if (line.find("update skipped") != std::string::npos) r.push_back(line);
        }
        return r;
    };
    const std::vector<std::string> a = losses(every), b = losses(deferred);
    REQUIRE(a.size() > 10);
    CHECK(a == b);
    int skipped = 0;
    for (const std::string& l : b) skipped += l.find("non-finite loss (matching = nan); images") != std::string::npos;
    CHECK(skipped > 0);
    CHECK(all_weights(every + "/checkpoint.safetensors") == all_weights(deferred + "/checkpoint.safetensors"));
    SafeTensors sa = safetensors_load(every + "/checkpoint.safetensors"), sb = safetensors_load(deferred + "/checkpoint.safetensors");
    CHECK(sa.metadata.at("adam_steps") == sb.metadata.at("adam_steps"));
    for (float w : all_weights(deferred + "/checkpoint.safetensors")) REQUIRE(std::isfinite(w));
    // every image NaN: the 10th skipped step in a row stops the run, found at the next read
    std::string all_nan = small_demo_dataset("deferred_all", 60, 20, 32, 16);
    const std::string ims2 = all_nan + "/demo/precomp/train_ims.npy";
    plant_nan(ims2, 1, npy_open(ims2).shape[1] * npy_open(ims2).shape[2]);
    TrainConfig c = small_config(all_nan, temp_dir("deferred_all_run"));
    c.img_dim = 32;
    c.embed_size = 16;
    c.check_inputs = false;
    c.log_step = 5;  // the 10th skipped step is found at the read after it
    c.device = cuda_available() ? "cuda" : "emulator";
    CHECK_THROWS_WITH(train(c), doctest::Contains("10 steps in a row had a non-finite loss or gradient (last: epoch 1 step 10, loss (matching = nan))"));
    use_emulated_device(false);
}

TEST_CASE("run folder: train.log line by line, run.json with the protocol, the vocabulary; cross-dataset eval uses it") {
    std::string data = small_demo("runfolder");
    TrainConfig c = small_config(data, temp_dir("runfolder"));
    c.validate = true;
    c.val_split = "test";
    c.max_steps = 5;
    train(c);
    std::ifstream log(c.logger_name + "/train.log");
    int steps = 0;
    for (std::string line; std::getline(log, line);) steps += line.find("| step ") != std::string::npos;
    CHECK(steps == 5);
    Json run = Json::parse_file(c.logger_name + "/run.json");
    CHECK(run["config"]["protocol"].as_string() == "best_on_test");
    CHECK(run["protocol_note"].as_string().find("HREM's protocol") != std::string::npos);
    CHECK(file_exists(c.logger_name + "/vocab.json"));
    // the curves: one epoch row (mean loss, validation rsum) and its picture
    std::ifstream tsv(c.logger_name + "/curves.tsv");
    std::vector<std::string> rows;
    for (std::string line; std::getline(tsv, line);) rows.push_back(line);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == "epoch\tloss\trsum");
    CHECK(rows[1].rfind("1\t", 0) == 0);
    CHECK(rows[1].find("\t-") == std::string::npos);  // validated: an rsum, not "-"
    std::ifstream svg(c.logger_name + "/curves.svg");
    std::string pic((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
    CHECK(pic.find("validation rsum") != std::string::npos);
    CHECK(pic.find("<polyline") != std::string::npos);
    // TensorBoard: one event file holding the reference's tags, 5 steps of them
    std::string events;
    if (DIR* d = opendir(c.logger_name.c_str())) {
        while (dirent* e = readdir(d))
            if (std::string(e->d_name).rfind("events.out.tfevents.", 0) == 0) events = c.logger_name + "/" + e->d_name;
        closedir(d);
    }
    REQUIRE(!events.empty());
    std::ifstream ev(events, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(ev)), std::istreambuf_iterator<char>());
    auto count = [&](const std::string& tag) {  // a Summary.Value's tag field: 0x0a, its length, the bytes
        const std::string key = std::string(1, '\x0a') + std::string(1, (char)tag.size()) + tag;
        size_t n = 0;
        for (size_t at = bytes.find(key); at != std::string::npos; at = bytes.find(key, at + 1)) n++;
        return n;
    };
    CHECK(count("Le") == 5);
    CHECK(count("lr") == 5);
    CHECK(count("Eit") == 5);
    CHECK(count("rsum") == 1);
    CHECK(count("meanr") == 2);  // i2t, then t2i (as the reference)
    CHECK(count("r10i") == 1);
    // evaluated elsewhere (another dataset folder without that vocabulary): the run's own is used
    std::string other = small_demo_dataset("runfolder_other", 20, 10, 128, 32);
    CHECK(std::remove((other + "/vocab/demo_precomp_vocab.json").c_str()) == 0);
    EvalConfig ec;
    ec.checkpoint = c.logger_name + "/model_best.safetensors";
    ec.data_path = other;
    ec.progress = false;
    EvalResult r = evaluate_checkpoint(ec);
    CHECK(r.n_img == 10);
    CHECK(r.protocol == "best_on_test");
}

TEST_CASE("eval --bge_only: ranks by description . caption embeddings alone (VSD's eval_bge.py)") {
    std::string data = small_demo("bge");
    EvalConfig ec;
    ec.bge_only = true;
    ec.data_path = data;
    ec.dataset = "demo";
    ec.vsd = "cpm";
    ec.progress = false;
    EvalResult r = evaluate_checkpoint(ec);
    // by hand: sims[i][c] = desc[5 i] . cap[c]
    DatasetOptions o;
    o.data_path = data;
    o.dataset = "demo";
    o.split = "test";
    o.vsd = VsdSource::Cpm;
    PrecompDataset d = PrecompDataset::open(o);
    Tensor desc = d.desc_emb->to_tensor(), cap = d.cap_emb->to_tensor();
    const int64_t N = d.n_img, C = d.n_cap, E = desc.size(1);
    std::vector<double> sims(N * C);
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < C; k++) {
            double s = 0;
            for (int64_t e = 0; e < E; e++) s += (double)desc.data()[5 * i * E + e] * cap.data()[k * E + e];
            sims[i * C + k] = s;
        }
    RetrievalMetrics m = retrieval_metrics(sims, N, C, 5);
    CHECK(r.full.rsum == doctest::Approx(m.rsum).epsilon(1e-9));
    CHECK(r.full.rsum > 100);  // the demo's † descriptions and captions share concepts
    ec.vsd = "flor";
    CHECK(evaluate_checkpoint(ec).full.rsum < r.full.rsum);  // ⋆ is lossier
}

TEST_CASE("build_vocab: SCAN's rules (count >= 4 over train + dev), and the BiGRU trains with it") {
    std::string data = small_demo("vocabtool");
    const std::string out = temp_dir("vocabtool") + "/v.json";
    const std::string cmd = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/build_vocab --data_path " + data +
                            " --dataset demo --out " + out + " > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    // the same as the demo generator's (which builds it from train + dev captions with the same function)
    Vocab a = Vocab::load_json(out), b = Vocab::load_json(data + "/vocab/demo_precomp_vocab.json");
    CHECK(a.size() == b.size());
    for (int i = 0; i < a.size(); i++) CHECK(a.word(i) == b.word(i));
    CHECK(std::system((std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/build_vocab --data_path " + data +
                       " --dataset nope > /dev/null 2>&1").c_str()) != 0);
}

TEST_CASE("the 12 paper rows train and evaluate on the demo laid out as f30k and as coco (release files only)") {
    // the commands of README's table, on toy sizes: only the sizes (and batch, for 10 images) are set
    std::map<std::string, std::string> data;
    for (const char* ds : {"f30k", "coco"}) data[ds] = toy_demo(std::string("rows_") + ds, 10, 10, ds, ds);
    for (const char* ds : {"f30k", "coco"})
        for (const char* model : {"gpo", "hrem"})
            for (const char* vsd : {"none", "flor", "cpm"}) {
                TrainConfig c;
                c.dataset = ds;
                c.data_path = data[ds];
                c.model = model;
                c.vsd = vsd;
                c.bert_path = fixture("torch/tiny_bert");  // hidden 8, 2 layers: a stand-in for bert-base
                c.logger_name = temp_dir(std::string("rows_run_") + ds + model + vsd);
                c.img_dim = 16;
                c.embed_size = 8;
                c.nhead = 2;
                c.batch_size = 8;
                c.max_steps = 2;
                c.warmup = 1;  // HREM: the relation module runs in the second step
                c.topk = 4;
                c.progress = false;
                c.save_fold5 = std::string(ds) == "coco";
                CAPTURE(ds);
                CAPTURE(model);
                CAPTURE(vsd);
                TrainResult r = train(c);
                CHECK(r.steps == 2);
                EvalConfig ec;
                ec.checkpoint = r.best_checkpoint;
                ec.split = std::string(ds) == "coco" ? "testall" : "test";
                ec.fold5 = std::string(ds) == "coco";
                ec.progress = false;
                EvalResult e = evaluate_checkpoint(ec);
                CHECK(e.n_img == 10);
                // VSD's protocol: model_best is the last state, and its validation is the test split's
                // (COCO with --save_fold5: the 5-fold 1K mean)
                const bool vsd_row = std::string(vsd) != "none";
                CHECK(e.protocol == (vsd_row ? "last_epoch" : "best_on_dev"));
                if (vsd_row) CHECK(r.last_val.rsum == doctest::Approx(ec.fold5 ? e.fold5.rsum : e.full.rsum).epsilon(1e-9));
            }
}
