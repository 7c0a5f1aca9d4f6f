// Training-trajectory parity with the official code. tools/make_trajectory_fixtures.py ran the official
// training step (its loader, VSEModel.train_emb, train.py's epoch loop) for whole epochs on a small
// planted dataset and recorded the initial weights, every batch and every logged quantity. Here the
// same batches go through our train() — the `train` program's code path, configured by its flags —
// from the same weights, and every quantity is compared step by step (relative 1e-4). A failure
// names the first step and quantity that differ. Then the test split's similarity matrix, and the
// statistics of our own augmentation and shuffling against the official loader's.
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../src/core/flags.h"
#include "../src/data/batch.h"
#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "../src/data/safetensors.h"
#include "../src/data/torch_load.h"
#include "../src/train/trainer.h"
#include "helpers.h"

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// a and b agree within rel relative to scale (scale 0: relative to |b|)
bool close(double a, double b, double rel, double scale = 0) {
    const double s = scale > 0 ? scale : std::max(std::fabs(b), 1e-12);
    return std::fabs(a - b) <= rel * s;
}

std::string as_flag_value(const Json& v) {
    if (v.is_string()) return v.as_string();
    const double d = v.as_double();
    return d == std::floor(d) && std::fabs(d) < 1e15 ? std::to_string((long long)d) : strfmt("%.9g", d);
}

// A training configuration from a recipe's flags (trace.json "config") plus more, parsed exactly as
// `train` parses its command line.
TrainConfig parse_train_flags(const Json& recipe, const std::vector<std::pair<std::string, std::string>>& more) {
    std::vector<std::string> argv_s = {"train"};
    auto add = [&](const std::string& k, const std::string& v) {
        argv_s.push_back("--" + k);
        argv_s.push_back(v);
    };
    for (const auto& [k, v] : recipe.members()) add(k, as_flag_value(v));
    for (const auto& [k, v] : more) add(k, v);
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    TrainConfig cfg;
    Flags f("train", "trajectory test");
    cfg.add_flags(f);
    REQUIRE(f.parse((int)argv.size(), argv.data()));
    return cfg;
}

struct Replayed {
    Json official;              // trace.json
    std::vector<Json> ours;     // our trace, one per step
    std::string run, data;
};

// our train, configured as a user would: the recipe's flags from trace.json, plus the replay flags
// root: the fixture folder (tests/fixtures/trajectory, or a real-size one made with --size real)
Replayed replay(const std::string& root, const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    Replayed r;
    const std::string dir = root + "/" + name;
    r.official = Json::parse_file(dir + "/trace.json");
    r.data = root + "/data";
    r.run = temp_dir("traj_" + name);
    std::vector<std::pair<std::string, std::string>> flags = {
        {"data_path", r.data}, {"dataset", "f30k"}, {"init_from", dir + "/init.pth"}, {"replay", dir},
        {"trace", r.run + "/trace.jsonl"}, {"logger_name", r.run + "/run"}, {"validate", "0"}, {"progress", "0"}, {"seed", "1"}};
    if (file_exists(dir + "/bert/config.json")) flags.push_back({"bert_path", dir + "/bert"});  // the small BERT
    flags.insert(flags.end(), extra.begin(), extra.end());
    train(parse_train_flags(r.official["config"], flags));
    std::istringstream lines(read_text(r.run + "/trace.jsonl"));
    for (std::string line; std::getline(lines, line);) r.ours.push_back(Json::parse(line, "our trace"));
    return r;
}

// The quantities that no two implementations share: biases whose gradient is zero in exact arithmetic,
// so that what moves them is rounding noise (~1e-9), which AdamW's division by sqrt(v) + 1e-8 turns into
// steps of up to lr in a random direction, in PyTorch and in ours alike:
//   - a Linear's bias right before a BatchNorm (GPO's image MLP, layers.0 -> bns.0): BatchNorm removes any
//     constant; the running mean it feeds tracks it;
//   - an attention's key bias (BERT's key.bias; the key third #k of a packed in_proj_bias, which is
//     therefore compared by thirds): it adds q.b_k to every score of a query, which softmax removes.
// None of them changes the model's output, so they are left out; everything downstream is compared.
bool unidentifiable(const std::string& name) {
    auto ends = [&](const std::string& s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    return name == "img_enc.mlp.layers.0.bias" || name == "img_enc.mlp.bns.0.running_mean" ||
           ends(".attention.self.key.bias") || ends("in_proj_bias") || ends("in_proj_bias#k");
}

// Step by step: the lr, every loss term, the gradient norm before clipping, every parameter's sum
// (relative to its L2 norm) and sum of squares, and BatchNorm's running statistics. Returns the
// first difference ("" when none).
//
// At F30K's sizes float32 itself parts the runs (see the real-size case below): there `full_steps`
// limits the whole comparison to the first steps, `skip` names parameters left out there, and later
// steps compare the loss terms only, within `later_loss_rel`.
struct Tolerance {
    double rel = 1e-4;
    size_t full_steps = SIZE_MAX;
    std::set<std::string> skip;
    double later_loss_rel = 0;
};

std::string first_difference(const Replayed& r, const Tolerance& tol) {
    const double rel = tol.rel;
    const auto& off = r.official["steps"].items();
    if (off.size() != r.ours.size()) return strfmt("%zu steps recorded, %zu replayed", off.size(), r.ours.size());
    for (size_t s = 0; s < off.size(); s++) {
        if (s >= tol.full_steps) {  // the loss terms only
            for (const auto& [term, v] : off[s]["loss"].members()) {
                const double a = r.ours[s]["loss"][term].as_double(), b = v.as_double();
                if (!close(a, b, tol.later_loss_rel, std::fabs(b) + 1e-3))
                    return strfmt("step %zu: loss term '%s' is %.9g here, %.9g in the official run", s, term.c_str(), a, b);
            }
            continue;
        }
        const Json &o = off[s], &u = r.ours[s];
        const std::string at = strfmt("step %zu (epoch %lld)", s, (long long)o["epoch"].as_int() + 1);
        auto differ = [&](const std::string& what, double ours, double theirs) {
            return strfmt("%s: %s is %.9g here, %.9g in the official run", at.c_str(), what.c_str(), ours, theirs);
        };
        if (!close(u["lr"].as_double(), o["lr"].as_double(), 1e-6)) return differ("the learning rate", u["lr"].as_double(), o["lr"].as_double());
        for (const auto& [term, v] : o["loss"].members()) {
            if (!u["loss"].has(term)) return at + ": no loss term '" + term + "' here";
            if (!close(u["loss"][term].as_double(), v.as_double(), rel, std::fabs(v.as_double()) + 1e-3))
                return differ("loss term '" + term + "'", u["loss"][term].as_double(), v.as_double());
        }
        if (!close(u["grad_norm"].as_double(), o["grad_norm"].as_double(), rel))
            return differ("the gradient norm before clipping", u["grad_norm"].as_double(), o["grad_norm"].as_double());
        for (const auto& [ref, v] : o["params"].members()) {
            const std::string name = our_name_of_reference(ref);
            if (name.empty() || unidentifiable(name) || tol.skip.count(name)) continue;
            if (!u["params"].has(name)) return at + ": no parameter " + name + " here";
            const auto &a = u["params"][name].items(), &b = v.items();
            const double norm = std::sqrt(b[1].as_double());
            if (!close(a[0].as_double(), b[0].as_double(), rel, norm + 1e-6))
                return differ("the sum of " + name, a[0].as_double(), b[0].as_double());
            if (!close(a[1].as_double(), b[1].as_double(), rel)) return differ("the sum of squares of " + name, a[1].as_double(), b[1].as_double());
        }
        for (const auto& [ref, v] : o["buffers"].members()) {
            const std::string name = our_name_of_reference(ref);
            if (unidentifiable(name)) continue;
            if (!u["buffers"].has(name)) return at + ": no buffer " + name + " here";
            const auto &a = u["buffers"][name].items(), &b = v.items();
            double scale = 1e-6;
            for (const Json& x : b) scale = std::max(scale, std::fabs(x.as_double()));
            for (size_t i = 0; i < b.size() && i < a.size(); i++)
                if (!close(a[i].as_double(), b[i].as_double(), rel, scale))
                    return differ(strfmt("%s[%zu]", name.c_str(), i), a[i].as_double(), b[i].as_double());
        }
    }
    return "";
}

// the test split's similarities after the run, from our eval, against the official eval-mode encoders
void check_final_similarities(const Replayed& r, const std::string& dir, double within = 1e-4) {
    EvalConfig ec;
    ec.checkpoint = r.run + "/run/checkpoint.safetensors";
    ec.data_path = r.data;
    ec.dataset = "f30k";
    ec.split = "test";
    ec.save_sims = r.run + "/sims.npy";
    ec.progress = false;
    evaluate_checkpoint(ec);
    const std::vector<float> ours = npy_load(ec.save_sims).to_vector(), theirs = npy_load(dir + "/sims.npy").to_vector();
    REQUIRE(ours.size() == theirs.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); i++) worst = std::max(worst, (double)std::fabs(ours[i] - theirs[i]));
    INFO("largest difference of a test similarity: " << worst);
    CHECK(worst < within);
}

void run_case(const std::string& name, const std::string& root = fixture("trajectory"), const Tolerance& tol = {},
              double sims_within = 1e-4) {
    const Replayed r = replay(root, name);
    const std::string diff = first_difference(r, tol);
    INFO(name << ": " << r.ours.size() << " steps replayed");
    CHECK_MESSAGE(diff.empty(), diff);
    if (diff.empty()) check_final_similarities(r, root + "/" + name, sims_within);
}

// F30K's real sizes (tools/make_trajectory_fixtures.py --size real --out DIR): too big to commit, so
// replayed only when VSD_TRAJECTORY_REAL=DIR is set
const char* real_size_fixture() {
    const char* d = std::getenv("VSD_TRAJECTORY_REAL");
    if (!d) std::fprintf(stderr, "note: VSD_TRAJECTORY_REAL is not set: skipping the real-size trajectory replay\n");
    return d;
}

}  // namespace

TEST_CASE("trajectory: GPO + BiGRU (VSE++), 60 steps of the official run replayed: every loss, norm and parameter agrees") {
    run_case("gpo_bigru");
}

// The difference the held-back benchmark saw (plain GPO +74 rsum over the official by the 4th epoch):
// until the release-recipes change our VSE++ loss masked every pair of captions of the same image
// (mask_repeat, VSD's and HREM's choice), where vse_infty masks the diagonal only, so the other
// captions of an image were never its hardest negatives. With that old default the replay must fail,
// and first on the loss of the first step whose batch holds two captions of one image.
TEST_CASE("trajectory: the replay finds the VSE++ mask difference (the old default --mask_repeat 1) at its first step") {
    const std::string dir = fixture("trajectory/gpo_bigru");
    SafeTensors batches = safetensors_load(dir + "/batches.safetensors");
    int first_repeat = -1;
    for (int s = 0; first_repeat < 0 && batches.find(strfmt("b%d.img_ids", s)); s++) {
        const Tensor& ids = *batches.find(strfmt("b%d.img_ids", s));
        std::set<int64_t> seen(ids.i64(), ids.i64() + ids.numel());
        if ((int64_t)seen.size() < ids.numel()) first_repeat = s;
    }
    REQUIRE(first_repeat >= 0);
    const Replayed r = replay(fixture("trajectory"), "gpo_bigru", {{"mask_repeat", "1"}});
    const std::string diff = first_difference(r, Tolerance{});
    INFO(diff);
    CHECK(diff.rfind(strfmt("step %d ", first_repeat), 0) == 0);
    CHECK(diff.find("loss term 'matching'") != std::string::npos);
}

TEST_CASE("trajectory: GPO + VSD† (BERT, triplet with the official draws replayed, prototypes), 60 steps replayed") {
    run_case("gpo_vsd");
}

TEST_CASE("trajectory: HREM + VSD† (relation module from step 20, four triplet terms, regulariser, prototypes), 60 steps replayed") {
    run_case("hrem_vsd");
}

// At these sizes float32 parts the two runs within the first step, and it is PyTorch's float32 that
// strays: the first Adam step moves each weight by about +-lr in the sign of its gradient, and for the
// 1,048,576 weights of the image MLP's first Linear (which feeds BatchNorm; 4,608 rows, strong
// cancellation) the official float32 step has the wrong sign, against the same step in float64, for
// 116 weights; ours for 29 (measured once from the official modules run in float64). So: step 0 in full
// but for that weight, the loss terms within 1e-4 through the summed-hinge epoch (steps 0-9), and
// within 5e-3 afterwards, when the two float32 runs have drifted apart.
TEST_CASE("trajectory: GPO + BiGRU at F30K's sizes (36 x 2048 regions, batch 128, embeddings 1024)" *
          doctest::skip(!real_size_fixture())) {
    Tolerance first_step;
    first_step.full_steps = 1;
    first_step.skip = {"img_enc.mlp.layers.0.weight"};
    first_step.later_loss_rel = 5e-3;
    const Replayed r = replay(real_size_fixture(), "gpo_bigru");
    CHECK_MESSAGE(first_difference(r, first_step).empty(), first_difference(r, first_step));
    for (size_t s = 0; s < 10 && s < r.ours.size(); s++) {
        const double a = r.ours[s]["loss"]["matching"].as_double(), b = r.official["steps"].items()[s]["loss"]["matching"].as_double();
        INFO("step " << s << ": loss " << a << " here, " << b << " in the official run");
        CHECK(close(a, b, 1e-4));
    }
    check_final_similarities(r, std::string(real_size_fixture()) + "/gpo_bigru", 1e-2);
}

// The replay starts from the official initial weights, so it cannot see a difference in how weights
// are drawn. Here our own initialisation is compared with the official one, parameter by parameter:
// constants exactly (BatchNorm's 1 and 0, fc's zero bias), random ones by mean and spread.
void check_initial_distributions(const std::string& name) {
    const std::string dir = fixture("trajectory/" + name);
    std::vector<std::pair<std::string, std::string>> more = {
        {"data_path", fixture("trajectory/data")}, {"dataset", "f30k"}, {"validate", "0"}};
    if (file_exists(dir + "/bert/config.json")) more.push_back({"bert_path", dir + "/bert"});
    TrainConfig cfg = parse_train_flags(Json::parse_file(dir + "/trace.json")["config"], more);
    cfg.finalize();
    const SafeTensors init = reference_state_as_ours(load_weights_file(dir + "/init.pth"));
    const Tensor* emb = init.find("txt_enc.embed.weight");
    Rng rng(5);
    VSEModel ours(model_config(cfg, emb ? (int)emb->size(0) : 0), rng);
    int compared = 0;
    for (auto& [name, mine] : ours.named_parameters()) {
        const Tensor* theirs = init.find(name);
        INFO(name);
        REQUIRE(theirs);
        const std::vector<float> a = mine.to_vector(), b = theirs->to_vector();
        REQUIRE(a.size() == b.size());
        auto moments = [](const std::vector<float>& v) {
            double s = 0, q = 0;
            for (float x : v) s += x;
            const double mean = s / (double)v.size();
            for (float x : v) q += (x - mean) * (x - mean);
            return std::make_pair(mean, std::sqrt(q / (double)v.size()));
        };
        const auto [ma, sa] = moments(a);
        const auto [mb, sb] = moments(b);
        if (b.size() == 1) {  // one random number: nothing to compare
        } else if (sb == 0) {  // a constant (BatchNorm's and LayerNorm's 1 and 0, zero biases)
            CHECK(sa == 0);
            CHECK(ma == mb);
        } else if (b.size() >= 96) {  // random: the same spread and centre
            CHECK(sa == doctest::Approx(sb).epsilon(0.2));
            CHECK(std::fabs(ma - mb) <= 5 * sb / std::sqrt((double)b.size()));
        }
        compared++;
    }
    CHECK(compared > 10);
}

TEST_CASE("trajectory: our initial weights come from the official code's distributions") {
    SUBCASE("GPO + BiGRU (vse_infty bigru)") { check_initial_distributions("gpo_bigru"); }
    // a BERT without pretrained weights starts as Hugging Face's: N(0, 0.02) weights, zero biases
    SUBCASE("GPO + VSD (VSD, a randomly initialised BERT)") { check_initial_distributions("gpo_vsd"); }
    SUBCASE("HREM + VSD (VSD_HREM, its relation module included)") { check_initial_distributions("hrem_vsd"); }
}

// Our random streams are not PyTorch's, so the augmentation and the shuffling are compared in
// distribution with what the official loader produced (trace.json "augmentation", measured by the
// fixture script on the official dataset class): the share of regions kept, and per caption position
// (<start>, words, <end>) the shares of tokens kept, masked, replaced and deleted; and the number of
// same-image caption pairs per batch. The same measurement on our loader: captions of distinct words,
// aligned to their un-augmented ids. Tolerance: 4 standard errors of the difference of two shares.
TEST_CASE("trajectory: our augmentation and shuffling match the official loader's in distribution") {
    const Json off = Json::parse_file(fixture("trajectory/gpo_bigru/trace.json"))["augmentation"];
    DatasetOptions o;
    o.data_path = fixture("trajectory/data");
    o.dataset = "f30k";
    o.split = "train";
    const PrecompDataset data = PrecompDataset::open(o);
    auto vocab = std::make_shared<Vocab>(Vocab::load_json(fixture("trajectory/data/vocab/f30k_precomp_vocab.json")));
    TextFront text = TextFront::vocab(vocab);
    text.prepare(data.caps);
    const int64_t mask_id = vocab->id("<mask>");
    LoaderOptions lo;
    lo.batch_size = 16;
    lo.train = true;
    lo.seed = 3;
    lo.prefetch = false;
    BatchLoader loader(data, text, lo);
    int64_t kept_regions = 0, total_regions = 0, samples = 0, pairs = 0, batches = 0;
    std::map<std::string, std::vector<int64_t>> pos = {{"start", {0, 0, 0, 0}}, {"word", {0, 0, 0, 0}}, {"end", {0, 0, 0, 0}}};
    Rng none(0);
    for (int epoch = 0; samples < 20000; epoch++) {
        loader.start_epoch(epoch);
        Batch b;
        while (loader.next(b)) {
            batches++;
            for (int64_t i = 0; i < b.size; i++)
                for (int64_t j = i + 1; j < b.size; j++) pairs += b.img_ids[i] == b.img_ids[j];
            for (int64_t i = 0; i < b.size; i++) {
                const std::vector<int64_t> orig = text.ids(b.cap_ids[i], false, none);
                std::set<int64_t> distinct(orig.begin(), orig.end());
                if (distinct.size() != orig.size()) continue;
                samples++;
                kept_regions += b.img_lengths.i64()[i];
                total_regions += data.n_regions;
                const int64_t L = b.lengths.i64()[i];
                const int64_t* out = b.tokens.i64() + i * b.tokens.size(1);
                int64_t j = 0;
                for (size_t k = 0; k < orig.size(); k++) {  // the fixture script's alignment
                    const std::string kind = k == 0 ? "start" : k + 1 == orig.size() ? "end" : "word";
                    const bool later = j < L && std::find(orig.begin() + k, orig.end(), out[j]) != orig.end();
                    if (j < L && out[j] == orig[k]) pos[kind][0]++, j++;
                    else if (j < L && out[j] == mask_id) pos[kind][1]++, j++;
                    else if (j < L && !later) pos[kind][2]++, j++;
                    else pos[kind][3]++;
                }
            }
        }
    }
    auto same_share = [](double p_ours, double n_ours, double p_off, double n_off) {
        const double p = (p_ours * n_ours + p_off * n_off) / (n_ours + n_off);
        return std::fabs(p_ours - p_off) <= 4 * std::sqrt(std::max(p * (1 - p), 1e-6) * (1 / n_ours + 1 / n_off));
    };
    const double keep = (double)kept_regions / (double)total_regions;
    INFO("regions kept: ours " << keep << ", official " << off["region_keep"].as_double());
    CHECK(same_share(keep, (double)total_regions, off["region_keep"].as_double(), off["samples"].as_double() * 8));
    const char* what[4] = {"kept", "masked", "replaced", "deleted"};
    for (const char* kind : {"start", "word", "end"}) {
        const auto& theirs = off["tokens"][kind].items();
        double n = 0;
        for (int64_t c : pos[kind]) n += (double)c;
        for (int c = 0; c < 4; c++) {
            INFO(std::string(kind) << " tokens " << std::string(what[c]) << ": ours " << pos[kind][c] / n << ", official " << theirs[c].as_double());
            CHECK(same_share(pos[kind][c] / n, n, theirs[c].as_double(), theirs[4].as_double()));
        }
    }
    // same-image pairs per batch: 16 of 160 captions (5 per image) drawn without replacement
    const double ours_pairs = (double)pairs / (double)batches, theirs_pairs = off["same_image_pairs_per_batch"].as_double();
    const double expected = 120.0 * 4.0 / 159.0;
    INFO("same-image pairs per batch: ours " << ours_pairs << ", official " << theirs_pairs << ", expected " << expected);
    CHECK(ours_pairs == doctest::Approx(expected).epsilon(0.08));
    CHECK(theirs_pairs == doctest::Approx(expected).epsilon(0.08));
}
