// Precomputed datasets, batching and the demo generator.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "../src/data/batch.h"
#include "../src/data/dataset.h"
#include "../src/train/demo.h"
#include "helpers.h"

static std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// A tiny demo (small feature sizes keep it fast) in a fresh folder.
static std::string tiny_demo(const std::string& tag, uint64_t seed = 3) {
    DemoOptions o;  // smaller than small_demo_dataset: 6 dev and 8 test images, 64-d features
    o.data_path = temp_dir(tag);
    o.n_train = 40;
    o.n_dev = 6;
    o.n_test = 8;
    o.feat_dim = 64;
    o.emb_dim = 32;
    o.seed = seed;
    o.verbose = false;
    make_demo_dataset(o);
    return o.data_path;
}

TEST_CASE("demo: writes the release layout, the checker accepts it, the same seed gives identical bytes") {
    std::string a = tiny_demo("demoA"), b = tiny_demo("demoB"), c = tiny_demo("demoC", 4);
    for (const char* f : {"demo/precomp/train_ims.npy", "demo/precomp/train_caps.txt", "demo/precomp/test_aux_cap_bge_cpm_full_1.npy",
                          "demo/precomp/train_aux_cap_bge_flor_det.npy", "demo/precomp/test_cap_bge_cpm.npy", "demo/id_mapping.json",
                          "vocab/demo_precomp_vocab.json"}) {
        CAPTURE(f);
        REQUIRE(file_exists(a + "/" + f));
        CHECK(slurp(a + "/" + f) == slurp(b + "/" + f));  // byte-identical
    }
    CHECK(slurp(a + "/demo/precomp/train_caps.txt") != slurp(c + "/demo/precomp/train_caps.txt"));
    // the release has VSD files for train and test only: dev opens without them, or says they are missing
    CHECK(open_demo(a, "dev").n_regions == 36);
    CHECK_THROWS_WITH(open_demo(a, "dev", VsdSource::Cpm), doctest::Contains("dev_aux_cap_bge_cpm_full_1.npy"));
    for (const char* split : {"train", "test"}) {
        PrecompDataset d = open_demo(a, split, VsdSource::Cpm);
        CHECK(d.im_div == 5);
        CHECK(d.n_regions == 36);
        CHECK(d.feat_dim == 64);
        CHECK(d.desc_emb->shape[1] == 32);
        CHECK(open_demo(a, split, VsdSource::Flor).desc_file.find("flor_det") != std::string::npos);
    }
    // the description of an image is the same on its 5 rows; caption embeddings are unit vectors
    PrecompDataset d = open_demo(a, "test", VsdSource::Cpm);
    Tensor desc = d.desc_emb->to_tensor(), cap = d.cap_emb->to_tensor();
    CHECK(std::vector<float>(desc.data(), desc.data() + 32) == std::vector<float>(desc.data() + 4 * 32, desc.data() + 5 * 32));
    double n = 0;
    for (int k = 0; k < 32; k++) n += (double)cap.data()[k] * cap.data()[k];
    CHECK(n == doctest::Approx(1.0).epsilon(1e-5));
    Vocab v = Vocab::load_json(a + "/vocab/demo_precomp_vocab.json");
    CHECK(v.size() > 20);
    int unk = 0, total = 0;
    for (const std::string& s : d.caps)
        for (int id : v.encode(s)) { total++; unk += id == Vocab::kUnk; }
    CHECK(unk < total / 20);  // test captions are mostly in the train vocabulary
}

// The file names the seed's VSD-README tree lists under <dataset>/precomp (the "......" lines aside).
static std::vector<std::string> seed_precomp_files(const std::string& readme, const std::string& dataset) {
    std::ifstream f(readme);
    std::string line, current;
    std::vector<std::string> names;
    while (std::getline(f, line)) {
        for (const char* ds : {"coco", "f30k"})
            if (line.find(std::string("── ") + ds) != std::string::npos) current = ds;
        if (line.find("VSD") == 0 || line.find("└── vocab") != std::string::npos) current = "";
        const size_t at = line.find("── ");
        if (current != dataset || at == std::string::npos) continue;
        std::string name = line.substr(at + std::string("── ").size());
        if (name.size() > 4 && (name.substr(name.size() - 4) == ".npy" || name.substr(name.size() - 4) == ".txt"))
            names.push_back(name);
    }
    return names;
}

static std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> out;
    std::string cmd = "ls -1 '" + dir + "' > '" + dir + ".ls'";
    if (std::system(cmd.c_str()) != 0) return out;
    std::ifstream f(dir + ".ls");
    for (std::string n; std::getline(f, n);) out.push_back(n);
    std::sort(out.begin(), out.end());
    return out;
}

TEST_CASE("demo: the release's files, file for file, in the f30k and the coco layout; every file the seed's tree names") {
    for (std::string layout : {"f30k", "coco"}) {
        CAPTURE(layout);
        const std::string root = toy_demo("layout_" + layout, 20, 10, layout, layout);  // under the release's own name
        const std::string precomp = root + "/" + layout + "/precomp";
        CHECK(list_dir(precomp) == release_precomp_files(layout));
        CHECK(file_exists(root + "/" + layout + "/id_mapping.json"));
        CHECK(file_exists(root + "/vocab/" + layout + "_precomp_vocab.json"));
        // no VSD file for dev (the release has none); COCO's VSD files are testall's, and its test is testall's first fifth
        for (const std::string& f : list_dir(precomp))
            if (f.rfind("dev_", 0) == 0) CHECK(f.find("bge") == std::string::npos);
        if (layout == "coco") {
            CHECK(!file_exists(precomp + "/test_cap_bge.npy"));
            DatasetOptions d;
            d.data_path = root;
            d.dataset = "coco";
            d.split = "test";
            PrecompDataset test = PrecompDataset::open(d);
            d.split = "testall";
            PrecompDataset all = PrecompDataset::open(d);
            CHECK(test.n_img == 2);
            CHECK(all.n_img == 10);
            CHECK(std::vector<std::string>(all.caps.begin(), all.caps.begin() + 10) == test.caps);
            CHECK(all.ims.rows_tensor(0, 2, DType::F32).to_vector() == test.ims.rows_tensor(0, 2, DType::F32).to_vector());
        }
        // every precomp file the seed's README lists for this dataset is there
        const std::string readme = std::string(VSD_SOURCE_DIR) + "/../shared/seed/VSD-README.txt";
        if (!file_exists(readme)) {
            MESSAGE("skipping the comparison with the seed's tree: " << readme << " is absent");
            continue;
        }
        std::vector<std::string> seed = seed_precomp_files(readme, layout);
        CHECK(seed.size() >= 7);
        for (const std::string& f : seed) {
            CAPTURE(f);
            CHECK(file_exists(precomp + "/" + f));
        }
    }
}

TEST_CASE("demo: descriptions carry more of the image than a caption does; † beats ⋆") {
    std::string a = tiny_demo("demoD");
    PrecompDataset cpm = open_demo(a, "train", VsdSource::Cpm), flor = open_demo(a, "train", VsdSource::Flor);
    Tensor dc = cpm.desc_emb->to_tensor(), df = flor.desc_emb->to_tensor(), ce = cpm.cap_emb->to_tensor();
    const int64_t N = cpm.n_cap, D = dc.size(1);
    // mean cosine of a caption with its own image's description vs with another image's
    auto mean_cos = [&](const Tensor& desc, int64_t shift) {
        double s = 0;
        for (int64_t c = 0; c < N; c++) {
            int64_t r = (c + shift) % N;
            for (int64_t k = 0; k < D; k++) s += (double)ce.data()[c * D + k] * desc.data()[r * D + k];
        }
        return s / N;
    };
    double own_cpm = mean_cos(dc, 0), other_cpm = mean_cos(dc, 5), own_flor = mean_cos(df, 0);
    CHECK(own_cpm > other_cpm + 0.1);
    CHECK(own_cpm > own_flor);
}

// A hand-made dataset folder with tiny files, for the validation errors.
struct TinySet {
    std::string root, dir;
    explicit TinySet(const std::string& tag, int n_img = 2, const std::string& layout = "vsd") {
        root = temp_dir(tag);
        dir = layout == "vsd" ? root + "/toy/precomp" : root + "/toy_precomp";
        CHECK(std::system(("mkdir -p " + dir).c_str()) == 0);
        Rng r(1);
        npy_save(dir + "/test_ims.npy", Tensor::rand({n_img, 3, 4}, r));
        std::string caps;
        for (int i = 0; i < 5 * n_img; i++) caps += "a caption number " + std::to_string(i) + "\n";
        std::ofstream(dir + "/test_caps.txt") << caps;
        npy_save(dir + "/test_cap_bge.npy", Tensor::rand({5 * n_img, 6}, r));
        npy_save(dir + "/test_aux_cap_bge_cpm_full_1.npy", Tensor::rand({5 * n_img, 6}, r));
    }
    PrecompDataset open(VsdSource v = VsdSource::Cpm, const std::string& split = "test") const {
        DatasetOptions o;
        o.data_path = root;
        o.dataset = "toy";
        o.split = split;
        o.vsd = v;
        return PrecompDataset::open(o);
    }
};

TEST_CASE("dataset: both layouts; every mismatch is named with expected and found") {
    CHECK(TinySet("lay1").open().n_img == 2);
    CHECK(TinySet("lay2", 2, "hrem").open().dir.find("toy_precomp") != std::string::npos);
    {
        TinySet t("badcaps");
        std::ofstream(t.dir + "/test_caps.txt") << "one\ntwo\nthree\n";
        CHECK_THROWS_WITH(t.open(), doctest::Contains("expected 10 captions (5 per image) or 2 (1 per image) for the 2 images"));
    }
    {
        TinySet t("badaux");
        Rng r(2);
        npy_save(t.dir + "/test_aux_cap_bge_cpm_full_1.npy", Tensor::rand({9, 6}, r));
        npy_save(t.dir + "/test_cap_bge.npy", Tensor::rand({10, 5}, r));
        try {
            t.open();
            FAIL("no error");
        } catch (const Error& e) {
            std::string s = e.what();
            CHECK(s.find("test_aux_cap_bge_cpm_full_1.npy: expected 10 rows (one per caption of") != std::string::npos);
            CHECK(s.find("found 9") != std::string::npos);
            CHECK(s.find("2 problems") != std::string::npos);  // rows, and widths 6 vs 5... reported together
        }
    }
    {
        TinySet t("noflor");
        CHECK_THROWS_WITH(t.open(VsdSource::Flor), doctest::Contains("missing the Florence-2 description embeddings (--vsd flor) (expected test_aux_cap_bge_flor_det.npy)"));
    }
    {
        TinySet t("noims");
        CHECK(std::remove((t.dir + "/test_ims.npy").c_str()) == 0);
        CHECK_THROWS_WITH(t.open(), doctest::Contains("test_ims.npy: missing"));
    }
    {
        TinySet t("emptyline");
        std::ofstream(t.dir + "/test_caps.txt") << "a\nb\n\nd\n";
        CHECK_THROWS_WITH(t.open(), doctest::Contains("test_caps.txt:3: empty caption line"));
    }
    {
        TinySet t("utf8");
        std::ofstream(t.dir + "/test_caps.txt") << "ok\ncaf\xe9 latin-1\n";
        CHECK_THROWS_WITH(t.open(), doctest::Contains("test_caps.txt:2: not valid UTF-8 (byte 0xe9 at column 4)"));
    }
    CHECK_THROWS_WITH(TinySet("nosplit").open(VsdSource::None, "train"), doctest::Contains("no caption file found; tried:"));
    // 1 caption per image is accepted (im_div 1)
    TinySet one("onecap");
    std::ofstream(one.dir + "/test_caps.txt") << "x\ny\n";
    Rng r(3);
    npy_save(one.dir + "/test_cap_bge.npy", Tensor::rand({2, 6}, r));
    npy_save(one.dir + "/test_aux_cap_bge_cpm_full_1.npy", Tensor::rand({2, 6}, r));
    CHECK(one.open().im_div == 1);
}

TEST_CASE("dataset: each split reads exactly the reference's file; a look-alike is named, never substituted") {
    std::string root = toy_demo("lookalike", 10, 10);
    const std::string pre = root + "/demo/precomp/";
    DatasetOptions o;
    o.data_path = root;
    o.dataset = "demo";
    o.split = "test";
    o.vsd = VsdSource::Cpm;
    o.cap_emb_name = "cap_bge_cpm";  // HREM+VSD's file
    PrecompDataset d = PrecompDataset::open(o);
    CHECK(d.cap_emb_file == pre + "test_cap_bge_cpm.npy");
    CHECK(d.desc_file == pre + "test_aux_cap_bge_cpm_full_1.npy");
    CHECK(d.opened.size() == 4);
    CHECK(std::rename((pre + "test_cap_bge_cpm.npy").c_str(), (pre + "x.npy").c_str()) == 0);
    CHECK_THROWS_WITH(PrecompDataset::open(o), doctest::Contains("test_cap_bge_cpm.npy: missing the caption embeddings (the file the "
                                                                 "reference reads for split 'test'); found test_cap_bge.npy beside it"));
    o.cap_emb_name = "cap_bge";  // GPO+VSD's file is there
    CHECK(PrecompDataset::open(o).cap_emb_file == pre + "test_cap_bge.npy");
    CHECK(std::rename((pre + "test_aux_cap_bge_cpm_full_1.npy").c_str(), (pre + "test_aux_cap_bge_cpm_full.npy").c_str()) == 0);
    CHECK_THROWS_WITH(PrecompDataset::open(o), doctest::Contains("found test_aux_cap_bge_cpm_full.npy beside it"));
    // dev has no VSD files in the release: optional there, with what is absent listed
    o.split = "dev";
    o.vsd_optional = true;
    PrecompDataset dev = PrecompDataset::open(o);
    CHECK(!dev.desc_emb);
    CHECK(dev.vsd_absent.size() == 2);
}

TEST_CASE("dataset: dev is truncated to its first 5000 captions") {
    std::string root = temp_dir("dev");
    std::string dir = root + "/toy/precomp";
    CHECK(std::system(("mkdir -p " + dir).c_str()) == 0);
    npy_save(dir + "/dev_ims.npy", Tensor::zeros({1014, 1, 2}));
    std::string caps;
    for (int i = 0; i < 5070; i++) caps += "c\n";
    std::ofstream(dir + "/dev_caps.txt") << caps;
    DatasetOptions o;
    o.data_path = root;
    o.dataset = "toy";
    o.split = "dev";
    PrecompDataset d = PrecompDataset::open(o);
    CHECK(d.n_cap == 5070);
    CHECK(d.length == 5000);
    CHECK(d.image_of(4999) == 999);
}

TEST_CASE("batching: seeded, sorted, padded; ids and embeddings follow their captions") {
    std::string a = tiny_demo("batch");
    PrecompDataset d = open_demo(a, "train", VsdSource::Cpm);
    TextFront text = demo_text(a, d);
    LoaderOptions lo;
    lo.batch_size = 16;
    lo.train = true;
    lo.seed = 5;
    BatchLoader L1(d, text, lo), L2(d, text, lo);
    CHECK(L1.batches_per_epoch() == 200 / 16);  // drop_last
    Batch b1, b2;
    REQUIRE(L1.next(b1));
    REQUIRE(L2.next(b2));
    CHECK(b1.cap_ids == b2.cap_ids);  // same seed, same batch
    CHECK(b1.tokens.to_vector() == b2.tokens.to_vector());
    CHECK(b1.images.to_vector() == b2.images.to_vector());
    // sorted by length, descending; padding is 0 past each length
    for (int64_t k = 0; k + 1 < b1.size; k++) CHECK(b1.lengths.i64()[k] >= b1.lengths.i64()[k + 1]);
    const int64_t L = b1.tokens.size(1), R = b1.images.size(1), F = b1.images.size(2);
    for (int64_t k = 0; k < b1.size; k++) {
        for (int64_t t = b1.lengths.i64()[k]; t < L; t++) CHECK(b1.tokens.i64()[k * L + t] == 0);
        int64_t nr = b1.img_lengths.i64()[k];
        CHECK(nr >= 1);
        CHECK(nr <= 36);
        double pad = 0;
        for (int64_t r = nr; r < R; r++)
            for (int64_t f = 0; f < F; f++) pad += std::fabs(b1.images.data()[(k * R + r) * F + f]);
        CHECK(pad == 0.0);
        CHECK(b1.img_ids[k] == b1.cap_ids[k] / 5);
        // the description row is the caption's own row of the file
        Tensor row = d.desc_emb->rows_tensor(b1.cap_ids[k], 1, DType::F32);
        CHECK(std::equal(row.data(), row.data() + 32, b1.desc_emb.data() + k * 32));
    }
    // another epoch, another order; the prefetch thread gives what make_batch gives
    L1.start_epoch(1);
    Batch e1;
    REQUIRE(L1.next(e1));
    CHECK(e1.cap_ids != b1.cap_ids);
    Batch second;
    REQUIRE(L1.next(second));
    CHECK(second.cap_ids == L1.make_batch(1).cap_ids);
    int n = 2;
    while (L1.next(second)) n++;
    CHECK(n == 12);
    // resuming mid-epoch skips exactly the consumed batches
    L2.start_epoch(1, 1);
    Batch r1;
    REQUIRE(L2.next(r1));
    CHECK(r1.cap_ids == L1.make_batch(1).cap_ids);
    // evaluation: no shuffle, no drop, no augmentation
    LoaderOptions eo;
    eo.batch_size = 16;
    BatchLoader E(d, text, eo);
    CHECK(E.batches_per_epoch() == 13);
    Batch eb;
    REQUIRE(E.next(eb));
    std::vector<int64_t> ids = eb.cap_ids;
    std::sort(ids.begin(), ids.end());
    CHECK(ids.front() == 0);
    CHECK(ids.back() == 15);
    for (int64_t k = 0; k < eb.size; k++) CHECK(eb.img_lengths.i64()[k] == 36);
}

TEST_CASE("augmentation rates: regions kept with p 0.8; tokens masked/randomised/deleted 10/2/8 percent") {
    // region dropping: over 60 samples x 36 regions
    std::string a = tiny_demo("aug");
    PrecompDataset d = open_demo(a, "train");
    TextFront text = demo_text(a, d);
    LoaderOptions lo;
    lo.batch_size = 200;
    lo.train = true;
    BatchLoader L(d, text, lo);
    Batch b = L.make_batch(0);
    double kept = 0;
    for (int64_t k = 0; k < b.size; k++) kept += b.img_lengths.i64()[k];
    kept /= (double)b.size * 36;
    CHECK(kept == doctest::Approx(0.8).epsilon(0.03));  // 7200 draws: sd 0.005
    // BERT masking, per word, on a long caption and many seeds
    BertTokenizer tok({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "w"});
    auto tp = std::make_shared<const BertTokenizer>(tok);
    TextFront bt = TextFront::bert(tp);
    std::string cap;
    for (int i = 0; i < 1000; i++) cap += "w ";
    bt.prepare({cap});
    int masked = 0, random = 0, total = 0, kept_w = 0;
    for (uint64_t s = 0; s < 20; s++) {
        Rng rng(s);
        std::vector<int64_t> ids = bt.ids(0, true, rng);
        CHECK(ids.front() == 2);  // [CLS]
        CHECK(ids.back() == 3);   // [SEP]
        for (size_t i = 1; i + 1 < ids.size(); i++) {
            if (ids[i] == 4) masked++;
            else if (ids[i] == 5) kept_w++;
            else random++;  // a random vocab id other than "w" (a random draw of "w" counts as kept)
        }
        total += 1000;
    }
    int deleted = total - masked - random - kept_w;
    CHECK(masked / (double)total == doctest::Approx(0.10).epsilon(0.1));
    CHECK(deleted / (double)total == doctest::Approx(0.08).epsilon(0.12));
    CHECK(random / (double)total > 0.01);
    CHECK(random / (double)total < 0.025);
    Rng rng(0);
    CHECK(bt.ids(0, false, rng).size() == 1002);  // no augmentation at test time
}
