// The evaluation report (src/train/report.*), the per-query ranks behind it (metrics.h), and eval
// writing it beside its JSON with the demo's pictures.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../src/data/npy.h"
#include "../src/data/torch_load.h"
#include "../src/train/report.h"
#include "helpers.h"

static size_t count_of(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) n++;
    return n;
}

// 3 images x 2 captions each, by hand: image 0 finds its caption 0 first; caption 5 (image 2)
// ranks image 2 last
static ReportData small_report() {
    ReportData d;
    d.title = "a <test> & report";
    d.split = "test";
    d.n_img = 3, d.n_cap = 6, d.per = 2;
    d.sims = {0.9, 0.1, 0.2, 0.3, 0.8, 0.0,   // image 0: captions 0 (0.9), 4, 3, 2, 1, 5
              0.1, 0.2, 0.7, 0.6, 0.1, 0.9,   // image 1: captions 5 (0.9, image 2's), 2, 3, ...
              0.2, 0.1, 0.3, 0.1, 0.6, 0.05};  // image 2: caption 4 first (its own), caption 5 last
    d.full = retrieval_metrics(d.sims, 3, 6, 2);
    for (int c = 0; c < 6; c++) d.captions.push_back("caption number " + std::to_string(c));
    d.image_names = {"a.png", "b.png", "c.png"};
    d.image_uris = {"data:image/png;base64,AAAA", "", ""};
    return d;
}

TEST_CASE("report: ranks and top-k in the metrics' order, by hand") {
    const ReportData d = small_report();
    const QueryRanks q = query_ranks(d.sims, 3, 6, 2);
    CHECK(q.i2t == std::vector<int64_t>{0, 1, 0});  // image 1: caption 5 (not its own) comes first
    // caption 5: column 5 = 0.0, 0.9, 0.05 -> image 1, image 2, image 0: its image 2 at rank 1 (0-based)
    CHECK(q.t2i[5] == 1);
    CHECK(q.t2i[0] == 0);
    CHECK(top_k(&d.sims[0], 1, 6, 3) == std::vector<int64_t>{0, 4, 3});
    CHECK(top_k(&d.sims[5], 6, 3, 3) == std::vector<int64_t>{1, 2, 0});
    const double ties[] = {1, 2, 2, 1};
    CHECK(top_k(ties, 1, 4, 4) == std::vector<int64_t>{2, 1, 3, 0});  // equal scores: the higher index first
}

TEST_CASE("report: one self-contained HTML page with the table, curves, histogram, gallery and failures") {
    const ReportData d = small_report();
    const std::string h = html_report(d);
    CHECK(h.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(h.find("a &lt;test&gt; &amp; report") != std::string::npos);  // escaped
    // self-contained: no script, no external reference (only the SVG namespace names a URL)
    CHECK(h.find("<script") == std::string::npos);
    CHECK(count_of(h, "http") == count_of(h, "xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(count_of(h, "src=\"") == count_of(h, "src=\"data:"));
    // the table: rsum of these ranks
    CHECK(h.find(strfmt("<b>%.1f</b>", d.full.rsum)) != std::string::npos);
    CHECK(h.find("R@K curves") != std::string::npos);
    CHECK(count_of(h, "<polyline") == 2);
    CHECK(h.find("Where the correct item ranks") != std::string::npos);
    // the gallery and the failures: the thumbnail where there is one, cards elsewhere
    CHECK(h.find("<img src=\"data:image/png;base64,AAAA\"") != std::string::npos);
    CHECK(h.find("<div class=\"ph\">image 1</div>") != std::string::npos);
    CHECK(h.find("Worst failures") != std::string::npos);
    // the worst caption is 5 (rank 2, image 2): it is shown with its rank
    CHECK(h.find("caption 5 of image 2: correct at rank 2") != std::string::npos);
    CHECK(h.find("caption number 5") != std::string::npos);
    CHECK(h.find("card hit") != std::string::npos);  // a correct image is framed
    // image 1's own captions are 2 and 3; 5 is first but not its own
    CHECK(h.find("image 1: correct at rank 2") != std::string::npos);
    // the same seed gives the same page
    CHECK(html_report(d) == h);
}

TEST_CASE("eval writes eval_<split>.html beside its JSON, with the demo's pictures") {
    const std::string data = small_demo_dataset("report", 40, 10, 64, 32);
    CHECK(file_exists(data + "/demo/images/demo_100040.png"));  // ids.txt's id -> id_mapping.json -> the file
    // every test image has its picture
    PrecompDataset d = open_demo(data, "test");
    const std::vector<std::string> files = image_files(d);
    REQUIRE(files.size() == 10);
    for (const std::string& f : files) CHECK(file_exists(f));
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.text_encoder = "bigru";
    c.logger_name = temp_dir("report_run");
    c.img_dim = 64, c.embed_size = 16, c.word_dim = 8, c.batch_size = 16, c.num_epochs = 1, c.max_steps = 3;
    c.progress = false;
    c.val_split = "test";
    train(c);
    const std::string eval = std::string(VSD_SOURCE_DIR) + "/" + VSD_BUILD_DIR + "/eval";  // `make test` builds it
    const std::string log = c.logger_name + "/eval.out";
    const int rc = std::system((eval + " --logger_name " + c.logger_name + " --data_path " + data + " > " + log + " 2>&1").c_str());
    std::ifstream lin(log);
    const std::string out((std::istreambuf_iterator<char>(lin)), std::istreambuf_iterator<char>());
    CHECK_MESSAGE(rc == 0, out);
    std::ifstream in(c.logger_name + "/eval_test.html");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string h = ss.str();
    CHECK(h.find("<img src=\"data:image/png;base64,iVBORw0KGgo") != std::string::npos);  // PNG bytes, inline
    CHECK(h.find("validation rsum") != std::string::npos);  // the run's curves.svg, inlined
    CHECK(out.find("report written to " + c.logger_name + "/eval_test.html") != std::string::npos);
}

TEST_CASE("eval --ensemble: run folders (each model evaluated here) and saved matrices, averaged as the papers' ensembles") {
    const std::string data = small_demo_dataset("ensemble", 40, 10, 64, 32);
    std::vector<std::string> runs;
    for (uint64_t seed : {1, 2}) {
        TrainConfig c;
        c.data_path = data, c.dataset = "demo", c.text_encoder = "bigru", c.seed = seed;
        c.logger_name = temp_dir("ensemble_run" + std::to_string(seed));
        c.img_dim = 64, c.embed_size = 16, c.word_dim = 8, c.batch_size = 16, c.num_epochs = 1;
        c.progress = false, c.validate = false, c.tensorboard = false;
        train(c);
        runs.push_back(c.logger_name);
    }
    // each model's own similarities, saved, and their mean by hand
    std::vector<std::vector<double>> sims;
    for (const std::string& r : runs) {
        EvalConfig ec;
        ec.checkpoint = r + "/model_best.safetensors", ec.data_path = data, ec.progress = false, ec.save_sims = r + "/sims.npy";
        sims.push_back(evaluate_checkpoint(ec).sims);
    }
    std::vector<double> mean(sims[0].size());
    for (size_t i = 0; i < mean.size(); i++) mean[i] = (sims[0][i] + sims[1][i]) / 2;
    const RetrievalMetrics want = retrieval_metrics(mean, 10, 50, 5);
    // two run folders; a run folder and a saved matrix: the same numbers
    for (const std::string& list : {runs[0] + "," + runs[1], runs[0] + "," + runs[1] + "/sims.npy"}) {
        CAPTURE(list);
        EvalConfig ec;
        ec.ensemble = list, ec.data_path = data, ec.progress = false;
        const EvalResult r = evaluate_checkpoint(ec);
        CHECK(r.full.rsum == doctest::Approx(want.rsum).epsilon(1e-12));
        CHECK(r.full.t2i.meanr == doctest::Approx(want.t2i.meanr).epsilon(1e-12));
        CHECK(r.what.find("ensemble of 2") != std::string::npos);
        CHECK(r.captions.size() == 50);  // a run folder was among them: the report has the captions
    }
    EvalConfig bad;
    bad.ensemble = runs[0] + "," + temp_dir("ensemble_none") + "/missing.npy";
    bad.data_path = data, bad.progress = false;
    CHECK_THROWS_WITH(evaluate_checkpoint(bad), doctest::Contains("missing.npy"));
}

TEST_CASE("the reference's saved similarities (np.save of {'npts', 'sims'}): read through the pickle allow-list") {
    // numpy wrote these (tools/make_npy_fixtures.py): the dict with a float32 matrix, the same with
    // numpy 2's module name and a float64 matrix, and the plain float64 matrix to compare with
    const Tensor plain = npy_load(fixture("npy/results_ref_sims.npy"));
    for (const char* f : {"npy/results_ref.npy", "npy/results_ref_np2.npy"}) {
        CAPTURE(f);
        const std::string path = fixture(f);
        const size_t at = npy_pickle_offset(path);
        REQUIRE(at > 0);
        int64_t n_img = 0, n_cap = 0;
        const std::vector<double> s = load_pickled_sims(path, at, &n_img, &n_cap);
        CHECK(n_img == 3);
        CHECK(n_cap == 15);
        REQUIRE(s.size() == 45);
        for (int k = 0; k < 45; k++) CHECK(s[k] == (double)plain.data()[k]);  // float32 values, exactly
        EvalConfig ec;
        ec.ensemble = path;
        const EvalResult r = evaluate_checkpoint(ec);
        const std::vector<float> pv = plain.to_vector();
        CHECK(r.full.rsum == doctest::Approx(retrieval_metrics(std::vector<double>(pv.begin(), pv.end()), 3, 15, 5).rsum));
    }
    CHECK(npy_pickle_offset(fixture("npy/f4.npy")) == 0);  // numbers: not a pickle
    CHECK_THROWS_WITH(npy_open(fixture("npy/results_ref.npy")), doctest::Contains("an object array (a pickle"));
    // a hostile pickle in the same wrapper: the global is refused, nothing runs
    const std::string dir = temp_dir("pickled_sims");
    auto write_npy = [&](const std::string& name, const std::string& pickle) {
        std::string header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
        while ((10 + header.size() + 1) % 64) header += ' ';
        header += '\n';
        std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + (char)(header.size() & 0xFF) + (char)(header.size() >> 8) + header + pickle;
        std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
        return dir + "/" + name;
    };
    int64_t a, b;
    const std::string evil = write_npy("evil.npy", "cos\nsystem\n(S'touch /tmp/vsd_pwned'\ntR.");
    CHECK_THROWS_WITH(load_pickled_sims(evil, npy_pickle_offset(evil), &a, &b), doctest::Contains("refusing the global os.system"));
    CHECK(!file_exists("/tmp/vsd_pwned"));
    const std::string cut = write_npy("cut.npy", "\x80\x03}q\x00(X\x04\x00\x00\x00sims");
    CHECK_THROWS_WITH(load_pickled_sims(cut, npy_pickle_offset(cut), &a, &b), doctest::Contains("truncated pickle"));
    const std::string nodict = write_npy("nodict.npy", "\x80\x03K\x05.");
    CHECK_THROWS_WITH(load_pickled_sims(nodict, npy_pickle_offset(nodict), &a, &b), doctest::Contains("holds no dict"));
}
