// CLIP (src/data/clip_tokenizer.*): the byte-level BPE against OpenCLIP's tokenizer on crafted strings
// and on every caption of ../shared/data (goldens: tools/make_clip_tokenizer_fixtures.py), and by hand.
#include <cstring>

#include "../kernels/backend.h"
#include "../src/data/checksum.h"
#include "../src/data/clip_tokenizer.h"
#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "helpers.h"

// data/models/clip (tools/fetch_clip_bpe.sh; .ci/run fetches it) or $VSD_CLIP_BPE
static std::string clip_bpe_path() {
    const char* env = std::getenv("VSD_CLIP_BPE");
    return env ? std::string(env) : std::string(VSD_SOURCE_DIR) + "/data/models/clip/bpe_simple_vocab_16e6.txt.gz";
}
static bool clip_bpe_absent() {
    if (file_exists(clip_bpe_path())) return false;
    std::fprintf(stderr, "note: %s is absent (run tools/fetch_clip_bpe.sh): skipping the CLIP tokenizer's parity tests\n",
                 clip_bpe_path().c_str());
    return true;
}

TEST_CASE("clip tokenizer: BPE by hand on a five-merge vocabulary") {
    // merges by rank: "l o", "lo w</w>", "h e", "he l", "hel low</w>"
    const ClipTokenizer t({"l o", "lo w</w>", "h e", "he l", "hel low</w>"}, "hand");
    CHECK(t.vocab_size() == 512 + 5 + 2);
    CHECK(t.sot_id == 517);
    CHECK(t.eot_id == 518);
    // ids 0..93 are the printable ASCII bytes from '!': 'a' (97) is 97 - 33 = 64
    CHECK(t.token(64) == "a");
    CHECK(t.token(256 + 64) == "a</w>");
    // "hellow": h e l l o w</w> -> (l o) h e l lo w</w> -> (lo w</w>) h e l low</w> -> (h e) he l low</w>
    //   -> (he l) hel low</w> -> (hel low</w>) hellow</w>: the last merge, id 512 + 4
    CHECK(t.bpe_ids("hellow") == std::vector<int>{516});
    // "low" -> lo w</w> -> low</w> (merge 1); "he" -> h e</w>: "e</w>" is not "e", no merge applies
    CHECK(t.bpe_ids("low") == std::vector<int>{513});
    CHECK(t.bpe_ids("he") == std::vector<int>{'h' - 33, 256 + 'e' - 33});
    // a space is byte 32, not printable: the symbols for bytes 0..32 follow the 188 printable ones
    const std::vector<int> e = t.encode("Low, LOW!", 8);
    CHECK(e == std::vector<int>{517, 513, 256 + ',' - 33, 513, 256 + '!' - 33, 518, 0, 0});
    CHECK(t.encode("low low low low", 4) == std::vector<int>{517, 513, 513, 518});  // cut: EOT stays last
}

TEST_CASE("clip tokenizer: cleaning and splitting") {
    const ClipTokenizer t({"a b"}, "hand");
    CHECK(t.clean("  Tom &amp;amp; JERRY\t\n &#39;s  ") == "tom & jerry 's");
    CHECK(t.clean("\u201cQuote\u201d \ufb01sh \uff21") == "\"quote\" fish a");
    CHECK(t.pieces("the dog's toy isn't 42nd!?") ==
          std::vector<std::string>{"the", "dog", "'s", "toy", "isn", "'t", "4", "2", "nd", "!?"});
    CHECK(t.pieces("caf\u00e9 \u0393\u03b5\u03b9\u03ac,'s") == std::vector<std::string>{"caf\u00e9", "\u0393\u03b5\u03b9\u03ac", ",'", "s"});
    CHECK(unicode_letter(U'\u00e9'));
    CHECK(!unicode_letter(U'1'));
    CHECK(unicode_number(U'\u0663'));
    CHECK(unicode_space(U'\u3000'));
    CHECK(unicode_lower(U'\u0393') == U'\u03b3');
}

TEST_CASE("clip tokenizer: open_clip's ids on crafted strings") {
    if (clip_bpe_absent()) return;
    const ClipTokenizer t(clip_bpe_path());
    CHECK(t.vocab_size() == 49408);
    CHECK(t.sot_id == 49406);
    CHECK(t.eot_id == 49407);
    const Json cases = Json::parse_file(fixture("tokenize/clip_cases.json"));
    REQUIRE(cases.size() >= 10);
    for (size_t i = 0; i < cases.size(); i++) {
        const std::string text = cases[i]["text"].as_string();
        std::vector<int> want;
        for (size_t k = 0; k < cases[i]["ids"].size(); k++) want.push_back((int)cases[i]["ids"][k].as_int());
        std::vector<int> got = t.encode(text);
        while (!got.empty() && got.back() == 0) got.pop_back();
        INFO(text);
        CHECK(got == want);
    }
}

TEST_CASE("clip tokenizer: open_clip's ids on every caption of shared/data") {
    if (clip_bpe_absent()) return;
    const ClipTokenizer t(clip_bpe_path());
    int files = 0;
    for (const char* ds : {"f30k", "coco"})
        for (const char* split : {"test", "dev"}) {
            const std::string caps = std::string(ds) + "/precomp/" + split + "_caps.txt";
            if (shared_absent(caps)) continue;
            const std::string text = read_text(shared_data(caps));
            std::vector<std::string> lines;  // Python's str.split("\n")
            for (size_t a = 0;;) {
                const size_t b = text.find('\n', a);
                lines.push_back(text.substr(a, b == std::string::npos ? std::string::npos : b - a));
                if (b == std::string::npos) break;
                a = b + 1;
            }
            const Tensor want = npy_load(fixture(std::string("tokenize/clip_real_") + ds + "_" + split + ".npy"), DType::I64);
            REQUIRE(want.size(0) == (int64_t)lines.size());
            const int64_t* w = want.i64();
            int64_t bad = 0;
            for (size_t i = 0; i < lines.size(); i++) {
                std::vector<int> ids = t.encode(lines[i]);
                while (!ids.empty() && ids.back() == 0) ids.pop_back();
                std::vector<int32_t> le(ids.begin(), ids.end());
                const uint32_t crc = crc32(le.data(), le.size() * 4);
                if (crc != (uint32_t)w[2 * i] || (int64_t)ids.size() != w[2 * i + 1]) {
                    if (bad++ == 0) MESSAGE(caps << " line " << i + 1 << " differs from open_clip: '" << lines[i] << "'");
                }
            }
            CHECK(bad == 0);
            files++;
        }
    MESSAGE(files << " caption files checked against open_clip");
}

// ---- the model ---------------------------------------------------------------------------------------
#include "../src/data/torch_load.h"
#include "../src/nn/clip.h"

// largest |a - b| over two tensors of equal size
static double max_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.numel() == b.numel());
    const std::vector<float> x = a.to_vector(), y = b.to_vector();
    double m = 0;
    for (size_t i = 0; i < x.size(); i++) m = std::max(m, (double)std::fabs(x[i] - y[i]));
    return m;
}

static void clip_parity(const std::string& variant, Device dev) {
    const std::string dir = fixture("clip/" + variant);
    auto clip = load_clip_folder(dir);
    CHECK(clip->cfg.quick_gelu == (variant == "quick_gelu"));
    CHECK(clip->cfg.vision_heads == 2);
    clip->to(dev);
    const Tensor images = npy_load(dir + "/images.npy").to(dev);
    const Tensor ids = npy_load(dir + "/ids.npy", DType::I64);
    Tensor img = clip->encode_image(images), txt = clip->encode_text(ids);
    const double fwd = std::max(max_diff(img, npy_load(dir + "/image_features.npy")),
                                max_diff(txt, npy_load(dir + "/text_features.npy")));
    CHECK(fwd < 1e-5);
    Tensor loss = sum(img * npy_load(dir + "/r_img.npy").to(dev)) + sum(txt * npy_load(dir + "/r_txt.npy").to(dev));
    tape().backward(loss);
    const SafeTensors want = torch_load(dir + "/grads.bin");
    double bwd = 0;
    int n = 0;
    for (auto& [name, p] : clip->named_parameters()) {
        const Tensor* g = want.find(name);
        INFO(name);
        REQUIRE(g != nullptr);
        const double d = p.has_grad() ? max_diff(p.grad_tensor(), *g) : max_diff(Tensor::zeros(g->shape()), *g);
        CHECK(d < 1e-4);
        bwd = std::max(bwd, d);
        n++;
    }
    CHECK(n == (int)want.tensors.size());
    MESSAGE(strfmt("%s on %s: features within %.3g of open_clip's, %d parameter gradients within %.3g", variant.c_str(),
                   dev == Device::CPU ? "the CPU" : "the device", fwd, n, bwd));
}

TEST_CASE("clip: a random OpenCLIP model's features and gradients, loaded from its own files (GELU and QuickGELU)") {
    clip_parity("gelu", Device::CPU);
    clip_parity("quick_gelu", Device::CPU);
}

TEST_CASE("clip: the same on the device (the GPU when there is one, else the emulator)") {
    TestDevice on_device;
    clip_parity("gelu", Device::CUDA);
}

TEST_CASE("clip: a weights file that does not match says every problem at once") {
    ClipConfig c;
    c.embed_dim = 8; c.image_size = 32; c.patch_size = 8; c.vision_width = 16; c.vision_layers = 2; c.vision_heads = 2;
    c.context_length = 12; c.vocab_size = 100; c.text_width = 16; c.text_heads = 2; c.text_layers = 1;  // one layer fewer
    Rng rng(1);
    Clip clip(c, rng);
    const std::string f = fixture("clip/gelu/open_clip_pytorch_model.bin");
    try {
        clip.load(torch_load(f), f);
        FAIL("loaded");
    } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(m.find("unexpected transformer.resblocks.1.ln_1.weight") != std::string::npos);
        CHECK(m.find("problems") != std::string::npos);
    }
    CHECK_THROWS_WITH(load_clip_folder(fixture("clip")), doctest::Contains("no open_clip_config.json"));
}

// ---- your own pictures: a CLIP index of a folder ---------------------------------------------------------
#include <fstream>

#include "../src/data/image.h"
#include "../src/data/safetensors.h"
#include "../src/train/clip_index.h"

// A tiny CLIP folder: open_clip_config.json, random weights (open_clip_model.safetensors) and four merges
static std::string tiny_clip_folder(const std::string& tag) {
    const std::string dir = temp_dir(tag);
    std::ofstream(dir + "/merges.txt") << "#version: 0.2\nd o\ndo g</w>\nc a\nca t</w>\n";
    std::ofstream(dir + "/open_clip_config.json")
        << R"({"model_cfg": {"embed_dim": 8, "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 16, "head_width": 8,
              "layers": 1}, "text_cfg": {"context_length": 16, "vocab_size": 518, "width": 16, "heads": 2, "layers": 1}}})";
    Rng rng(3);
    Clip clip(ClipConfig::from_json_file(dir + "/open_clip_config.json"), rng);
    safetensors_save(dir + "/open_clip_model.safetensors", clip.state_dict());
    return dir;
}

static void copy_file(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream(to, std::ios::binary) << in.rdbuf();
}

TEST_CASE("clip index: a folder of pictures, encoded once, searched by text; rebuilt when the folder changes") {
    const std::string clip_dir = tiny_clip_folder("clip_index_model");
    const std::string pics = temp_dir("clip_index_pictures");
    REQUIRE(std::system(("mkdir -p " + pics + "/sub").c_str()) == 0);
    copy_file(fixture("image/jpeg/q75_422.jpg"), pics + "/b.jpg");
    copy_file(fixture("image/jpeg/q90_420_progressive.jpg"), pics + "/a.JPG");
    copy_file(fixture("image/jpeg/grey_q85.jpg"), pics + "/sub/c.jpeg");
    copy_file(fixture("image/png/rgba.png"), pics + "/d.png");
    std::ofstream(pics + "/notes.txt") << "not a picture";
    CHECK(list_images(pics) == std::vector<std::string>{"a.JPG", "b.jpg", "d.png", "sub/c.jpeg"});

    ClipIndexOptions o;
    o.images = pics;
    o.clip = clip_dir;
    o.index_dir = temp_dir("clip_index_index");
    o.batch_size = 3;  // two batches
    o.progress = false;
    std::vector<float> emb;
    {
        ClipIndex idx(o);
        CHECK(idx.built());
        REQUIRE(idx.files().size() == 4);
        emb = idx.embeddings();
        // each row is the model's normalised embedding of that picture, preprocessed as OpenCLIP does
        auto clip = load_clip_folder(clip_dir);
        NoGrad ng;
        for (size_t i = 0; i < 4; i++) {
            std::vector<float> px(3 * 32 * 32);
            ClipPreprocess p;
            p.size = 32;
            clip_preprocess(to_rgb(image_read(pics + "/" + idx.files()[i])), px.data(), p);
            const std::vector<float> want = unit_rows(clip->encode_image(Tensor::from({1, 3, 32, 32}, px))).to_vector();
            for (int e = 0; e < 8; e++) CHECK(emb[i * 8 + e] == doctest::Approx(want[e]).epsilon(1e-5));
        }
        // a query's hits are the rows by falling cosine with its text embedding
        const std::vector<float> t = idx.text_embedding("a dog");
        const std::vector<ClipHit> hits = idx.search("a dog", 10);
        REQUIRE(hits.size() == 4);
        for (size_t h = 0; h < hits.size(); h++) {
            const size_t row = std::find(idx.files().begin(), idx.files().end(), hits[h].file) - idx.files().begin();
            double s = 0;
            for (int e = 0; e < 8; e++) s += (double)emb[row * 8 + e] * t[e];
            CHECK(hits[h].score == doctest::Approx(s).epsilon(1e-9));
            if (h) CHECK(hits[h].score <= hits[h - 1].score);
        }
        CHECK(idx.search("a cat", 2).size() == 2);
    }
    {
        ClipIndex again(o);  // up to date: read back, not rebuilt
        CHECK(!again.built());
        CHECK(again.embeddings() == emb);
    }
    copy_file(fixture("image/jpeg/q50_420.jpg"), pics + "/e.jpg");
    {
        ClipIndex grown(o);
        CHECK(grown.built());
        CHECK(grown.files().size() == 5);
    }
    std::ofstream(pics + "/broken.jpg", std::ios::binary) << read_text(fixture("image/jpeg/q50_420.jpg")).substr(0, 200);
    CHECK_THROWS_WITH(ClipIndex{o}, doctest::Contains("broken.jpg: byte"));
    o.skip_bad = true;
    ClipIndex skipping(o);
    CHECK(skipping.files().size() == 5);
    REQUIRE(skipping.skipped.size() == 1);
    CHECK(skipping.skipped[0].find("broken.jpg") == 0);
}

TEST_CASE("clip index: the search program builds the index and answers") {
    const std::string clip_dir = tiny_clip_folder("clip_search_model");
    const std::string pics = temp_dir("clip_search_pictures");
    copy_file(fixture("image/jpeg/q75_422.jpg"), pics + "/one.jpg");
    copy_file(fixture("image/png/rgb.png"), pics + "/two.png");
    const std::string bin = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/search";  // `make test` builds it
    const std::string out = temp_dir("clip_search_out") + "/answer.json";
    const std::string cmd = bin + " --images " + pics + " --clip " + clip_dir + " --index " + temp_dir("clip_search_index") +
                            " --query 'a dog' --k 2 --json 1 > " + out + " 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const Json j = Json::parse_file(out);
    CHECK(j["query"].as_string() == "a dog");
    REQUIRE(j["hits"].size() == 2);
    CHECK(j["hits"][0]["score"].as_double() >= j["hits"][1]["score"].as_double());
    // no query: one clear error, exit status 1
    CHECK(std::system((bin + " --images " + pics + " --clip " + clip_dir + " 2>/dev/null").c_str()) != 0);
}

TEST_CASE("clip tokenizer: BPE merges learned by hand") {
    // pieces: low x3, lower, newest x2. (l, o) occurs 4 times; then (lo, w</w>) and (w, e) 3 times
    // each, and (lo, w</w>) was seen first
    CHECK(learn_bpe({"low low low lower", "newest newest"}, 3) == std::vector<std::string>{"l o", "lo w</w>", "w e"});
    // stops when no pair occurs twice
    CHECK(learn_bpe({"ab"}, 5).empty());
    // the learned merges tokenize the corpus's words whole
    const std::vector<std::string> m = learn_bpe({"a dog and a dog", "the dog"}, 50);
    const ClipTokenizer t(m, "learned");
    CHECK(t.bpe_ids("dog").size() == 1);
}

// ---- training: CLIP and CLIP+VSD on a small demo -------------------------------------------------------
#include "../src/nn/losses.h"
#include "../src/train/clip_train.h"
#include "../src/train/pca.h"

TEST_CASE("clip: InfoNCE by hand, repeated images left out, and its gradient") {
    // V = T = I (2 x 2), scale e^0 = 1: each row's log-softmax of (1, 0) at its own pair is 1 - ln(1 + e),
    // so the loss is ln(1 + e) - 1
    Tensor V = T({2, 2}, {1, 0, 0, 1}), Tt = T({2, 2}, {1, 0, 0, 1}), s = Tensor::scalar(0.0f);
    CHECK(infonce_loss(V, Tt, {0, 1}, s).item() == doctest::Approx(std::log(1 + std::exp(1.0)) - 1).epsilon(1e-6));
    // both rows of one image: the other pair is a positive, out of the softmax: the loss is 0
    CHECK(infonce_loss(V, Tt, {7, 7}, s).item() == doctest::Approx(0.0).epsilon(1e-7));
    // the scale saturates at 100
    const float at_cap = infonce_loss(V, Tt, {0, 1}, Tensor::scalar(std::log(100.0f))).item();
    CHECK(infonce_loss(V, Tt, {0, 1}, Tensor::scalar(9.0f)).item() == doctest::Approx(at_cap));
    CHECK_GRAD([](std::vector<Tensor>& in) { return infonce_loss(in[0], in[1], {0, 1, 0, 2}, in[2]); },
               {rnd({4, 3}, 1), rnd({4, 3}, 2), Tensor::scalar(0.3f)});
}

static TrainConfig clip_config(const std::string& data, const std::string& run, const std::string& vsd) {
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.model = "clip";
    c.vsd = vsd;
    c.logger_name = run;
    c.batch_size = 32;
    c.num_epochs = 2;
    c.progress = false;
    c.tensorboard = false;
    return c;
}

TEST_CASE("clip: make train MODEL=clip on a small demo: repeatable, eval reproduces it, CLIP+VSD beats CLIP") {
    const std::string data = small_demo_dataset("clip_train", 160, 60, 16, 64);
    const std::string root = temp_dir("clip_train_runs");
    TrainResult a = train(clip_config(data, root + "/a", "none"));
    TrainResult b = train(clip_config(data, root + "/b", "none"));
    // the same seed: the same weights, bit for bit
    const SafeTensors wa = safetensors_load(a.best_checkpoint), wb = safetensors_load(b.best_checkpoint);
    REQUIRE(wa.tensors.size() == wb.tensors.size());
    for (const auto& [name, t] : wa.tensors) CHECK(t.to_vector() == wb.find(name)->to_vector());
    // eval of model_best on the validation split gives the validation's numbers
    EvalConfig ec;
    ec.checkpoint = a.best_checkpoint;
    ec.split = "dev";
    ec.progress = false;
    CHECK(evaluate_checkpoint(ec).full.rsum == doctest::Approx(a.best_val.rsum).epsilon(1e-9));
    // CLIP+VSD† (PCA of the descriptions to CLIP's 64 dimensions) against CLIP, on test
    TrainResult v = train(clip_config(data, root + "/vsd", "cpm"));
    ec.split = "test";
    const double plain = evaluate_checkpoint(ec).full.rsum;
    ec.checkpoint = v.best_checkpoint;
    const double fused = evaluate_checkpoint(ec).full.rsum;
    MESSAGE(strfmt("60 test images: CLIP rsum %.1f, CLIP+VSD† %.1f (chance about 53)", plain, fused));
    CHECK(fused > plain + 50);
    CHECK(fused > 200);
    // the trained models index a folder of pictures (make index CLIP=<run folder>): the demo's own
    ClipIndexOptions o;
    o.images = data + "/demo/images";
    o.clip = root + "/vsd";  // a CLIP+VSD run: its towers alone
    o.index_dir = root + "/index";
    o.progress = false;
    ClipIndex idx(o);
    CHECK(idx.files().size() == list_images(o.images).size());
    CHECK(idx.dim() == 64);
    CHECK(idx.search("a man", 3).size() == 3);
}

TEST_CASE("clip: CLIP+VSD's prototypes: the demo's file is what make prototypes MODEL=clip computes") {
    const std::string data = small_demo_dataset("clip_proto", 120, 20, 16, 64);
    const std::string root = temp_dir("clip_proto_out");
    const std::string bin = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/prototypes";  // `make test` builds it
    REQUIRE(std::system((bin + " --data_path " + data + " --dataset demo --K 64 --clip_path auto --out " + root +
                         "/c.npy > /dev/null").c_str()) == 0);
    const Tensor ours = npy_load(root + "/c.npy");
    const Tensor demo = npy_load(data + "/demo/proto/" + clip_prototype_name("demo", 64, 64));
    CHECK(ours.shape() == Shape{64, 64});
    CHECK(ours.to_vector() == demo.to_vector());
    // centroids of unit rows: every norm at most 1
    for (int64_t k = 0; k < 64; k++) {
        double n = 0;
        for (int64_t e = 0; e < 64; e++) n += (double)ours.data()[k * 64 + e] * ours.data()[k * 64 + e];
        CHECK(n <= 1.0 + 1e-5);
    }
}

TEST_CASE("clip index: --exif_orientation 0 reads JPEGs as stored (as PIL's Image.open), and is part of the index's identity") {
    const std::string clip_dir = tiny_clip_folder("clip_exif_model");
    const std::string pics = temp_dir("clip_exif_pictures");
    copy_file(fixture("image/jpeg/orientation_6.jpg"), pics + "/turned.jpg");
    ClipIndexOptions o;
    o.images = pics;
    o.clip = clip_dir;
    o.index_dir = temp_dir("clip_exif_index");
    o.progress = false;
    std::vector<float> turned, stored;
    {
        ClipIndex idx(o);
        turned = idx.embeddings();
    }
    o.exif_orientation = false;
    {
        ClipIndex idx(o);
        CHECK(idx.built());  // not the index above
        stored = idx.embeddings();
    }
    CHECK(turned != stored);
    // the stored picture's embedding is the model's of the picture decoded without turning it
    ImageOptions raw;
    raw.exif_orientation = false;
    std::vector<float> px(3 * 32 * 32);
    ClipPreprocess p;
    p.size = 32;
    clip_preprocess(to_rgb(image_read(pics + "/turned.jpg", raw)), px.data(), p);
    auto clip = load_clip_folder(clip_dir);
    NoGrad ng;
    const std::vector<float> want = unit_rows(clip->encode_image(Tensor::from({1, 3, 32, 32}, px))).to_vector();
    for (int e = 0; e < 8; e++) CHECK(stored[e] == doctest::Approx(want[e]).epsilon(1e-5));
}
