// trainer.cpp — the training loop (paper-notes §4) and evaluation (paper-notes §5).
#include "trainer.h"

#include "clip_train.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "../../kernels/backend.h"
#include "../../kernels/many.h"
#include "../core/progress.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "../data/torch_load.h"
#include "../nn/losses.h"
#include "../nn/prototypes.h"
#include "checkpoint.h"
#include "replay.h"
#include "run_log.h"

namespace vsd {

// ---------------------------------------------------------------------------------------------
// configuration

void TrainConfig::add_flags(Flags& f) {
#define VSD_TRAIN_ADD(type, name, def, role, help) f.add(#name, &name, help, Flags::role);
    VSD_TRAIN_FLAGS(VSD_TRAIN_ADD)
#undef VSD_TRAIN_ADD
}

Flags::Record TrainConfig::role_of(const std::string& flag) {
#define VSD_TRAIN_ROLE(type, name, def, role, help) \
    if (flag == #name) return Flags::role;
    VSD_TRAIN_FLAGS(VSD_TRAIN_ROLE)
#undef VSD_TRAIN_ROLE
    return Flags::Local;
}

std::string TrainConfig::test_split() const { return dataset == "coco" ? "testall" : "test"; }

std::string TrainConfig::row_name() const {
    std::string r = model == "hrem" ? "HREM" : model == "clip" ? "CLIP" : "GPO";
    if (vsd == "cpm") r += "+VSD†";
    else if (vsd == "flor") r += "+VSD⋆";
    return r;
}

std::string TrainConfig::protocol() const {
    if (selection == "last") return "last_epoch";
    return val_split == "dev" ? "best_on_dev" : "best_on_test";
}

static bool file_exists(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Does the dev split hold every file this configuration reads? (The release ships no VSD files for dev.)
static bool dev_has_everything(const TrainConfig& c) {
    try {
        const std::string dir = find_precomp_dir(c.data_path, c.dataset, "dev");
        if (!file_exists(dir + (c.model == "clip" ? "/dev_ids.txt" : "/dev_ims.npy"))) return false;
        const VsdSource v = parse_vsd_source(c.vsd);
        if (v == VsdSource::None) return true;
        return file_exists(dir + "/" + vsd_description_file("dev", v)) && file_exists(dir + "/" + vsd_caption_file("dev", c.cap_emb));
    } catch (const Error&) {
        return false;
    }
}

void TrainConfig::finalize() {
    ENSURE(model == "gpo" || model == "hrem" || model == "clip", "--model must be gpo, hrem or clip, got '%s'", model.c_str());
    const bool clip = model == "clip";
    ENSURE(text_encoder == "bert" || text_encoder == "bigru", "--text_encoder must be bert or bigru, got '%s'", text_encoder.c_str());
    parse_vsd_source(vsd);  // validates
    if (vsd == "dagger" || vsd == "†") vsd = "cpm";
    if (vsd == "star" || vsd == "⋆") vsd = "flor";
    if (vsd.empty()) vsd = "none";
    const bool hrem = model == "hrem", with_vsd = vsd != "none", coco = dataset == "coco";
    // the recipe of the reference behind each paper row (see trainer.h and paper-notes §4.1-4.2)
    if (loss_type.empty()) loss_type = clip ? "infonce" : (with_vsd || hrem) ? "trip" : "vse";
    ENSURE(loss_type == "vse" || loss_type == "trip" || (clip && loss_type == "infonce"),
           "--loss_type must be vse or trip%s, got '%s'", clip ? " or infonce" : "", loss_type.c_str());
    if (num_epochs < 0) num_epochs = clip ? 10 : hrem && !with_vsd ? 30 : 25;
    if (clip) {  // our reconstruction (SPEC §2.8)
        if (clip_path == "auto") clip_path = file_exists(data_path + "/" + dataset + "/CLIP/open_clip_config.json")
                                                 ? data_path + "/" + dataset + "/CLIP" : "CLIP";
    }
    if (lr_update < 0) lr_update = 15;
    if (lr_schedules.empty() && (hrem || with_vsd)) lr_schedules = "15,25";  // VSD's and HREM's default [15, 25]
    if (batch_size < 0) batch_size = coco && (hrem || with_vsd) ? 256 : 128;
    if (vse_mean_warmup_epochs < 0) vse_mean_warmup_epochs = with_vsd && !hrem ? 0 : 1;
    if (mask_weight < 0) mask_weight = coco ? 1.5f : 1.0f;
    if (cap_emb == "auto") cap_emb = hrem ? "cap_bge_cpm" : "cap_bge";
    vsd_caption_file("train", cap_emb);  // validates
    ENSURE(topk >= 1 && topk <= 16, "--topk must be in [1, 16], got %d", topk);
    ENSURE(connections == "intra" || connections == "cross", "--connections must be intra or cross, got '%s'", connections.c_str());
    ENSURE(nhead >= 1, "--nhead must be at least 1, got %lld", (long long)nhead);
    ENSURE(!hrem || embed_size % nhead == 0, "--embed_size %lld is not a multiple of --nhead %lld", (long long)embed_size, (long long)nhead);
    // AdamW weight decay: the BiGRU branch of GPO passes none (PyTorch's 0.01); VSD, HREM and BERT use 1e-4
    if (weight_decay < 0) weight_decay = (text_encoder == "bigru" && !with_vsd && !hrem) ? 0.01f : 1e-4f;
    if (proto < 0) proto = with_vsd ? 1 : 0;
    if (bert_lr_factor < 0) bert_lr_factor = with_vsd ? 0.05f : 0.1f;
    if (proto_path.empty()) proto_path = data_path + "/" + dataset + "/proto";
    if (trip_cutoff < 0) trip_cutoff = coco ? 1.9f : 1.7f;
    if (vocab_path.empty()) vocab_path = data_path + "/vocab";
    // validation and model selection
    if (val_split == "auto") val_split = dev_has_everything(*this) ? "dev" : test_split();
    ENSURE(val_split == "dev" || val_split == "test" || val_split == "testall",
           "--val_split must be auto, dev, test or testall, got '%s'", val_split.c_str());
    if (selection == "auto") selection = with_vsd && val_split != "dev" ? "last" : "best";
    ENSURE(selection == "best" || selection == "last", "--selection must be auto, best or last, got '%s'", selection.c_str());
    check_device_name(device);
    // every value in its range, before any file is read or folder made (flags are already finite)
    auto at_least = [](const char* flag, double v, double lo) {
        ENSURE_HINT(v >= lo, "see train --help", "--%s must be at least %g, got %g", flag, lo, v);
    };
    auto within = [](const char* flag, double v, double lo, double hi) {
        ENSURE_HINT(v >= lo && v <= hi, "see train --help", "--%s must be in [%g, %g], got %g", flag, lo, hi, v);
    };
    ENSURE(batch_size > 1, "--batch_size must be at least 2, got %lld", (long long)batch_size);
    ENSURE(num_epochs > 0, "--num_epochs must be positive, got %d", num_epochs);
    for (auto [flag, v] : {std::pair<const char*, int64_t>{"embed_size", embed_size}, {"word_dim", word_dim}, {"img_dim", img_dim},
                           {"nhead", nhead}, {"sinkhorn_iterations", sinkhorn_iterations}, {"log_step", log_step}})
        at_least(flag, (double)v, 1);
    for (auto [flag, v] : {std::pair<const char*, int64_t>{"max_steps", max_steps}, {"warmup", warmup}, {"lr_update", lr_update},
                           {"vse_mean_warmup_epochs", vse_mean_warmup_epochs}, {"num_prototypes", num_prototypes}})
        at_least(flag, (double)v, 0);
    ENSURE_HINT(learning_rate > 0, "see train --help", "--learning_rate must be positive, got %g", learning_rate);
    for (auto [flag, v] : {std::pair<const char*, float>{"weight_decay", weight_decay}, {"grad_clip", grad_clip}, {"margin", margin},
                           {"bert_lr_factor", bert_lr_factor}, {"graph_lr_factor", graph_lr_factor},
                           {"reg_loss_weight", reg_loss_weight}, {"proto_weight", proto_weight}, {"mask_weight", mask_weight}})
        at_least(flag, v, 0);
    within("decay_rate", decay_rate, 0, 1);
    within("dropout", dropout, 0, 0.999);
    within("residual_weight", residual_weight, 0, 1);
    within("threshold", threshold, 1e-6, 1);
    ENSURE_HINT(sk_epsilon > 0 && proto_temperature > 0 && trip_cutoff > 0, "see train --help",
                "--sk_epsilon (%g), --proto_temperature (%g) and --trip_cutoff (%g) must be positive", sk_epsilon,
                proto_temperature, trip_cutoff);
    if (!lr_schedules.empty()) {  // comma-separated epochs
        std::stringstream ss(lr_schedules);
        for (std::string tok; std::getline(ss, tok, ',');)
            ENSURE_HINT(!tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos && tok.size() < 7,
                        "e.g. --lr_schedules 15,25", "--lr_schedules must be comma-separated epochs, got '%s'",
                        lr_schedules.c_str());
    }
}

std::string TrainConfig::to_json() const {
    // every recorded flag, as declared in add_flags, and two derived values
    TrainConfig c = *this;
    Flags f("train", "");
    c.add_flags(f);
    return f.to_json({{"row", json_quote(row_name())}, {"protocol", json_quote(protocol())}});
}

// ---------------------------------------------------------------------------------------------
// building blocks shared by train and eval

struct Setup {
    std::unique_ptr<PrecompDataset> train, val;
    std::unique_ptr<TextFront> text;
    std::unique_ptr<VSEModel> model;
};

static std::string vocab_file(const TrainConfig& c) {
    return c.vocab_path.size() > 5 && c.vocab_path.substr(c.vocab_path.size() - 5) == ".json"
               ? c.vocab_path : c.vocab_path + "/" + c.dataset + "_precomp_vocab.json";
}

static std::shared_ptr<Vocab> load_vocab(const TrainConfig& c) {
    std::string p = vocab_file(c);
    struct stat st;
    ENSURE_HINT(stat(p.c_str(), &st) == 0, "pass --vocab_path (SCAN's vocab/ folder); the demo generator writes its own",
                "%s: the BiGRU vocabulary is missing", p.c_str());
    std::printf("[vocab] opened %s\n", p.c_str());
    return std::make_shared<Vocab>(Vocab::load_json(p));
}

PrecompDataset open_split(const TrainConfig& c, const std::string& split, bool verbose) {
    DatasetOptions o;
    o.data_path = c.data_path;
    o.dataset = c.dataset;
    o.split = split;
    o.vsd = parse_vsd_source(c.vsd);
    o.cap_emb_name = c.cap_emb == "auto" ? (c.model == "hrem" ? "cap_bge_cpm" : "cap_bge") : c.cap_emb;
    o.features = c.model != "clip";  // CLIP reads the pictures
    o.verbose = verbose;
    return PrecompDataset::open(o);
}

ModelConfig model_config(const TrainConfig& c, int vocab_size) {
    ModelConfig m;
    m.model = c.model;
    m.text_encoder = c.text_encoder;
    m.img_dim = c.img_dim;
    m.embed_size = c.embed_size;
    m.word_dim = c.word_dim;
    m.vocab_size = vocab_size;
    m.hrem.embed = c.embed_size;
    m.hrem.heads = c.nhead;
    m.hrem.ffn = c.embed_size;  // HREM: dim_feedforward = d_model
    m.hrem.dropout = c.dropout;
    m.hrem.residual_weight = c.residual_weight;
    m.hrem.maxk_reference = c.maxk_reference;
    m.relation.threshold = c.threshold;
    m.relation.topk = c.topk;
    m.relation.mask_weight = c.mask_weight < 0 ? 1.0f : c.mask_weight;
    m.relation.cross_connections = c.connections == "cross";
    if (c.text_encoder == "bert") m.bert = BertConfig::from_json_file(c.bert_path + "/config.json");
    return m;
}

// The text front of a config: WordPiece for BERT, the SCAN vocabulary for the BiGRU.
std::unique_ptr<TextFront> make_text_front(const TrainConfig& c) {
    if (c.text_encoder == "bert")
        return std::make_unique<TextFront>(TextFront::bert(std::make_shared<const BertTokenizer>(c.bert_path + "/vocab.txt")));
    return std::make_unique<TextFront>(TextFront::vocab(load_vocab(c)));
}

// The batch's float tensors on the model's device (ids and lengths stay on the host: the ops take
// them from there)
static void batch_to(Batch& b, Device d) {
    if (d == Device::CPU) return;
    b.images = b.images.to(d);
    if (b.desc_emb.defined()) b.desc_emb = b.desc_emb.to(d);
    if (b.cap_emb.defined()) b.cap_emb = b.cap_emb.to(d);
}

Embeddings encode_split(VSEModel& model, const PrecompDataset& d, const TextFront& text, int64_t batch, bool progress) {
    NoGrad ng;
    model.eval();
    LoaderOptions lo;
    lo.batch_size = batch;
    BatchLoader loader(d, text, lo);
    Embeddings e;
    e.E = model.cfg.embed_size;
    e.n_cap = d.length;
    e.n_img = (d.length + d.im_div - 1) / d.im_div;
    e.img.assign(e.n_img * e.E, 0.0f);
    e.cap.assign(e.n_cap * e.E, 0.0f);
    Progress prog("encode " + d.split, loader.batches_per_epoch());
    Batch b;
    int64_t k = 0;
    const Device dev = model.parameters()[0].device();
    while (loader.next(b)) {
        batch_to(b, dev);
        auto [Vd, Td] = model.forward(model_input(b));
        const Tensor V = Vd.to(Device::CPU), T = Td.to(Device::CPU);
        for (int64_t r = 0; r < b.size; r++) {
            const int64_t c = b.cap_ids[r];
            std::copy(T.data() + r * e.E, T.data() + (r + 1) * e.E, e.cap.begin() + c * e.E);
            // the reference keeps img_embs[::5]: the image embedding computed on caption row 5i
            if (c % d.im_div == 0) std::copy(V.data() + r * e.E, V.data() + (r + 1) * e.E, e.img.begin() + (c / d.im_div) * e.E);
        }
        if (progress) prog.update(++k);
    }
    if (progress) prog.finish();
    model.train();
    return e;
}

// sims = img (N x E) . cap (5N x E)^T, in double as the reference's numpy
std::vector<double> similarities(const Embeddings& e) {
    std::vector<double> s(e.n_img * e.n_cap);
#pragma omp parallel for
    for (int64_t i = 0; i < e.n_img; i++)
        for (int64_t c = 0; c < e.n_cap; c++) {
            double acc = 0;
            for (int64_t k = 0; k < e.E; k++) acc += (double)e.img[i * e.E + k] * e.cap[c * e.E + k];
            s[i * e.n_cap + c] = acc;
        }
    return s;
}

// ---------------------------------------------------------------------------------------------
// training

std::vector<int> decay_epochs(const TrainConfig& c) {
    std::vector<int> m;
    if (c.lr_schedules.empty()) {
        m.push_back(c.lr_update);
        return m;
    }
    std::stringstream ss(c.lr_schedules);
    std::string tok;
    while (std::getline(ss, tok, ',')) m.push_back(std::stoi(tok));
    return m;
}

// The line that says how model_best is chosen; the same words go into run.json and eval's output.
static std::string protocol_line(const TrainConfig& c) {
    if (c.selection == "last")
        return strfmt("model selection: the last epoch (VSD's protocol%s); the %s metrics printed each epoch are for "
                      "monitoring only", c.val_split == "dev" ? "" : ": the release has no dev embeddings", c.val_split.c_str());
    if (c.val_split == "dev") return "model selection: the best rsum on dev";
    return strfmt("model selection: the best rsum on %s (HREM's protocol: selected on the test split, so optimistic)",
                  c.val_split.c_str());
}

// The prototype centroids: --proto_path (default <data_path>/<dataset>/proto, where `make prototypes`
// writes), or else ./proto_data, where the release keeps them beside its code
static std::string prototype_file(const TrainConfig& c) {
    std::string dir = c.proto_path;
    if (dir == c.data_path + "/" + c.dataset + "/proto") {
        try {
            return find_prototype_file(dir, c.dataset, c.num_prototypes);
        } catch (const Error&) {
            struct stat st;
            if (stat("proto_data", &st) == 0) dir = "proto_data";
        }
    }
    return find_prototype_file(dir, c.dataset, c.num_prototypes);
}

// `train --dry_run`: the resolved recipe and every file the run would read
static void print_dry_run(const TrainConfig& c) {
    std::printf("%s on %s: the resolved configuration\n", c.row_name().c_str(), c.dataset.c_str());
    Json j = Json::parse(c.to_json(), "config");
    for (const auto& [k, v] : j.members())
        std::printf("  %-24s %s\n", k.c_str(), v.is_string() ? v.as_string().c_str() : strfmt("%g", v.as_double()).c_str());
    std::printf("%s\n", protocol_line(c).c_str());
}

// BERT's pretrained weights from --bert_path, when the folder has them (else a random init)
static void load_bert_weights(VSEModel& model, const TrainConfig& cfg) {
    if (!model.bert()) return;
    const std::string w = find_model_weights(cfg.bert_path);
    if (!w.empty()) {
        model.bert()->load(load_weights_file(w), w);
        std::printf("BERT: pretrained weights from %s\n", w.c_str());
    } else {
        std::printf("BERT: no model.safetensors or pytorch_model.bin in %s: randomly initialised (%lld layers, "
                    "hidden %lld)\n", cfg.bert_path.c_str(), (long long)model.cfg.bert.layers,
                    (long long)model.cfg.bert.hidden);
    }
}

// parameter groups (paper-notes §4.1): the text encoder's own layers and the image encoder at the base lr,
// BERT at base lr x bert_lr_factor, HREM's relation module at base lr x graph_lr_factor
static std::vector<ParamGroup> param_groups(VSEModel& model, const TrainConfig& cfg) {
    std::vector<ParamGroup> groups = {ParamGroup{model.other_text_parameters(), 1.0f, cfg.weight_decay}};
    if (model.bert()) groups.push_back(ParamGroup{model.bert_parameters(), cfg.bert_lr_factor, cfg.weight_decay});
    groups.push_back(ParamGroup{model.image_parameters(), 1.0f, cfg.weight_decay});
    if (model.criterion) groups.push_back(ParamGroup{model.criterion->parameters(), cfg.graph_lr_factor, cfg.weight_decay});
    return groups;
}

// A resumed run is exact only with the same recipe: every recorded Recipe flag (flags.h) must have
// the checkpoint's value, unless --resume_anyway
static void check_resume_settings(const TrainConfig& cfg, const SafeTensors& st) {
    if (auto it = st.metadata.find("config"); it != st.metadata.end()) {
        Json was = Json::parse(it->second, cfg.resume + " (config)"), now = Json::parse(cfg.to_json(), "config");
        // Setting flags may change on resume (paths, device, epochs, validation); the derived
        // row follows the recipe flags, and the protocol follows the validation settings
        auto free_key = [](const std::string& k) { return k == "protocol" || TrainConfig::role_of(k) == Flags::Setting; };
        std::string diffs;
        for (const auto& [k, v] : now.members()) {
            if (free_key(k)) continue;
            const Json* w = was.find(k);
            auto text = [](const Json* j) {
                return !j ? std::string("(absent)") : j->is_string() ? j->as_string() : strfmt("%g", j->as_double());
            };
            if (text(w) != text(&v)) diffs += strfmt("%s--%s %s (checkpoint: %s)", diffs.empty() ? "" : ", ", k.c_str(),
                                                     text(&v).c_str(), text(w).c_str());
        }
        if (!diffs.empty() && cfg.resume_anyway)
            std::printf("resuming with other settings than the checkpoint's (no longer exact): %s\n", diffs.c_str());
        ENSURE_HINT(diffs.empty() || cfg.resume_anyway, "pass the checkpoint's values, or --resume_anyway to continue inexactly",
                    "%s: resuming with settings that differ from the checkpoint's: %s", cfg.resume.c_str(), diffs.c_str());
    }
}

// The run folder, made only once the data, the weights and any resume checkpoint have all been
// accepted: its configuration and protocol (run.json), and the vocabulary it was trained with
static void write_run_folder(const TrainConfig& cfg) {
    make_dirs(cfg.logger_name);
    write_file_atomic(cfg.logger_name + "/run.json",
                      "{\"config\": " + cfg.to_json() + ", \"protocol_note\": " + json_quote(protocol_line(cfg)) + "}\n");
    if (cfg.text_encoder == "bigru") {  // so that eval needs no dataset vocabulary (e.g. COCO-trained, F30K-tested)
        std::ifstream in(vocab_file(cfg), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        write_file_atomic(cfg.logger_name + "/vocab.json", ss.str());
    }
}

// Validation after an epoch: the recall table (printed and logged) on --val_split. Returns whether
// model_best is to be saved: the best rsum so far, or every epoch with --selection last (VSD's
// train.py overwrites it each epoch).
static bool validate_epoch(VSEModel& model, const PrecompDataset& val, const TextFront& text, const TrainConfig& cfg,
                           int epoch, std::FILE* log, TrainResult& res, double& best_rsum) {
    Embeddings e = encode_split(model, val, text, cfg.batch_size, false);
    const std::vector<double> sims = similarities(e);
    RetrievalMetrics m = retrieval_metrics(sims, e.n_img, e.n_cap, (int)val.im_div);
    std::string title = strfmt("epoch %d %s", epoch + 1, cfg.val_split.c_str());
    if (cfg.save_fold5 && cfg.val_split == "testall") {  // the reference then selects by the 5-fold 1K mean
        m = retrieval_metrics_5fold(sims, e.n_img, e.n_cap, (int)val.im_div);
        title += " 5-fold 1K";
    }
    if (cfg.selection == "last") title += " (monitoring only)";
    res.last_val = m;
    std::string t = metrics_table(title, m);
    std::printf("%s", t.c_str());
    std::fflush(stdout);  // visible at once in logs, not at exit
    std::fprintf(log, "%s", t.c_str());
    if (cfg.selection != "last" && m.rsum <= best_rsum) return false;
    best_rsum = std::max(best_rsum, m.rsum);
    res.best_val = m;
    return true;
}

// One batch's loss, term by term (a non-finite total names the culprit), as paper-notes §3.3-3.4:
//
//   L = L_m(V, T)                                                     the matching loss
//     + [relation on] ( L_m(V, T_g) + L_m(V_g, T) + L_m(V_g, T_g) + w_reg L_reg )    HREM
//     + [VSD] w_proto L_proto(V, T)                                     from the first step
//
// V, T are the (VSD-fused) embeddings; V_g, T_g the relation module's graph outputs.
struct LossTerms {
    std::vector<std::pair<const char*, Tensor>> terms;
    Tensor total;
};
template <class MatchingLoss>
static LossTerms batch_loss(VSEModel& model, const Batch& b, const TrainConfig& cfg, bool relation_on, MatchingLoss& L_m,
                            const Prototypes* protos, const ProtoOptions& popt, Rng& drop) {
    Encoded enc = model.encode(model_input(b), relation_on);
    const Tensor &V = enc.V, &T = enc.T;
    LossTerms L;
    L.terms.push_back({"matching", L_m(V, T)});
    if (relation_on) {
        RelationOut r = model.criterion->forward(V, T, enc.phi, enc.psi, b.img_lengths, b.lengths, &drop);
        L.terms.push_back({"graph(V,Tg)", L_m(V, r.Tg)});
        L.terms.push_back({"graph(Vg,T)", L_m(r.Vg, T)});
        L.terms.push_back({"graph(Vg,Tg)", L_m(r.Vg, r.Tg)});
        L.terms.push_back({"relation regulariser", r.reg * cfg.reg_loss_weight});
    }
    if (protos) L.terms.push_back({"prototype", protos->loss(V, T, popt) * cfg.proto_weight});
    L.total = L.terms[0].second;
    for (size_t k = 1; k < L.terms.size(); k++) L.total = L.total + L.terms[k].second;
    return L;
}

// ---- a step whose loss or gradient is not finite: say where, and undo what the forward changed ----

// the loss terms that are not finite: "prototype = nan, ..."
static std::string nonfinite_terms(const LossTerms& terms) {
    std::string which;
    for (auto& [name, t] : terms.terms) {
        const float x = t.item();
        if (!std::isfinite(x)) which += strfmt("%s%s = %g", which.empty() ? "" : ", ", name, x);
    }
    return which;
}

// ", first in <parameter>": the first parameter whose gradient holds a NaN or an Inf
static std::string first_nonfinite_gradient(VSEModel& model) {
    for (auto& [name, p] : model.named_parameters())
        if (p.has_grad() && first_nonfinite(p.grad_tensor()) >= 0) return ", first in " + name;
    return "";
}

// BatchNorm's running statistics move in the forward pass: put back the copies taken before it
static void restore_buffers(std::vector<std::pair<Tensor, Tensor>>& saved) {
    for (auto& [live, copy] : saved) {
        const bool f32 = live.dtype() == DType::F32;
        void* dst = f32 ? (void*)live.data() : (void*)live.i64();
        const void* src = f32 ? (const void*)copy.data() : (const void*)copy.i64();
        const size_t bytes = (size_t)live.numel() * (f32 ? 4 : 8);
        if (live.is_cuda()) live.backend().copy_on_device(dst, src, bytes);
        else std::memcpy(dst, src, bytes);
    }
}

static std::function<void(int64_t, int64_t)>& step_observer() {
    static std::function<void(int64_t, int64_t)> f;
    return f;
}
void set_step_observer(std::function<void(int64_t, int64_t)> f) { step_observer() = std::move(f); }

TrainResult train(TrainConfig cfg) {
    cfg.finalize();
    if (cfg.model == "clip") return train_clip(cfg);
    TrainResult res;
    auto t_start = std::chrono::steady_clock::now();
    if (cfg.dry_run) {
        print_dry_run(cfg);
        std::printf("files:\n");
        for (const std::string& split : {std::string("train"), cfg.val_split}) {
            if (split == "train" || cfg.validate) {
                PrecompDataset d = open_split(cfg, split);
                for (const std::string& f : d.opened) std::printf("  [%s] %s\n", split.c_str(), f.c_str());
            }
        }
        if (cfg.proto) std::printf("  [prototypes] %s\n", prototype_file(cfg).c_str());
        if (cfg.text_encoder == "bigru") std::printf("  [vocab] %s\n", vocab_file(cfg).c_str());
        else std::printf("  [bert] %s/config.json, vocab.txt%s\n", cfg.bert_path.c_str(),
                         find_model_weights(cfg.bert_path).empty() ? " (no weights: random init)" : (", " + find_model_weights(cfg.bert_path)).c_str());
        return res;
    }
    // ---- data (validated before the run folder is made) ----
    Setup s;
    std::printf("%s on %s\n", cfg.row_name().c_str(), cfg.dataset.c_str());
    s.train = std::make_unique<PrecompDataset>(open_split(cfg, "train", true));
    if (cfg.validate) s.val = std::make_unique<PrecompDataset>(open_split(cfg, cfg.val_split, true));
    s.text = make_text_front(cfg);
    s.text->prepare(s.train->caps);
    std::unique_ptr<TextFront> val_text;
    if (s.val) {
        val_text = make_text_front(cfg);
        val_text->prepare(s.val->caps);
    }
    ENSURE(s.train->feat_dim == cfg.img_dim, "--img_dim %lld does not match the region features (%lld) of %s",
           (long long)cfg.img_dim, (long long)s.train->feat_dim, s.train->dir.c_str());
    // ---- model and optimiser ----
    Rng init_rng(cfg.seed * 0x2545F4914F6CDD1Dull + 7);
    s.model = std::make_unique<VSEModel>(model_config(cfg, s.text->vocab_size()), init_rng);
    VSEModel& model = *s.model;
    load_bert_weights(model, cfg);
    if (!cfg.init_from.empty()) {
        load_initial_weights(model, cfg.init_from);
        std::printf("initial weights: %s\n", cfg.init_from.c_str());
    }
    const Device dev = select_device(cfg.device, cfg.cudnn, cfg.tf32, cfg.precision);
    if (dev == Device::CUDA) {
        model.to(dev);  // before the optimiser, which holds the parameters
        std::printf("device: the model trains on the %s\n", model.parameters()[0].backend().name);
    }
    AdamW opt(param_groups(model, cfg), cfg.learning_rate);
    std::vector<Tensor> all_params = model.parameters();
    LoaderOptions lo;
    lo.batch_size = cfg.batch_size;
    lo.train = true;
    lo.size_augment = cfg.size_augment;
    lo.token_augment = cfg.token_augment;
    lo.seed = cfg.seed;
    lo.check_finite = cfg.check_inputs;
    BatchLoader loader(*s.train, *s.text, lo);
    std::unique_ptr<ReplayBatches> replay;  // --replay: the recorded batches of another run instead
    if (!cfg.replay.empty()) replay = std::make_unique<ReplayBatches>(cfg.replay, *s.train, cfg.check_inputs);
    const int64_t per_epoch = replay ? replay->per_epoch() : loader.batches_per_epoch();
    ENSURE_HINT(per_epoch > 0, "lower --batch_size", "the training split has %lld samples, fewer than one batch of %lld",
                (long long)s.train->length, (long long)cfg.batch_size);
    int start_epoch = 0;
    int64_t skip = 0, global_step = 0;
    double best_rsum = -1;
    if (!cfg.resume.empty()) {
        SafeTensors st = safetensors_load(cfg.resume);
        check_resume_settings(cfg, st);
        load_model_weights(model, st, cfg.resume);
        load_optimizer_state(opt, model, st, cfg.resume);
        start_epoch = (int)checkpoint_meta_int(st, "epoch", cfg.resume);
        skip = checkpoint_meta_int(st, "step_in_epoch", cfg.resume);
        global_step = checkpoint_meta_int(st, "global_step", cfg.resume);
        best_rsum = checkpoint_meta_double(st, "best_rsum", cfg.resume);
        std::printf("resumed from %s: epoch %d, step %lld of %lld\n", cfg.resume.c_str(), start_epoch + 1, (long long)skip,
                    (long long)per_epoch);
    }
    std::printf("%s\n", s.train->summary().c_str());
    if (s.val) std::printf("%s\n", s.val->summary().c_str());
    std::printf("[%s] %s: model %s + %s, %lld parameters (%.2f M), vocab %d, loss %s%s, %lld steps/epoch, seed %llu\n",
                cfg.dataset.c_str(), cfg.row_name().c_str(), cfg.model.c_str(), cfg.text_encoder.c_str(),
                (long long)model.num_parameters(), model.num_parameters() / 1048576.0, s.text->vocab_size(),
                cfg.loss_type.c_str(), cfg.proto ? " + prototypes" : "", (long long)per_epoch, (unsigned long long)cfg.seed);
    if (cfg.validate) std::printf("%s\n", protocol_line(cfg).c_str());
    std::fflush(stdout);
    write_run_folder(cfg);
    std::FILE* log = std::fopen((cfg.logger_name + "/train.log").c_str(), cfg.resume.empty() ? "w" : "a");
    ENSURE(log, "%s/train.log: cannot open for writing", cfg.logger_name.c_str());
    std::setvbuf(log, nullptr, _IOLBF, 0);  // line by line: `tail -f train.log` follows the run
    StepTrace trace(cfg.trace);
    RunLog runlog(cfg.logger_name, cfg.tensorboard, !cfg.resume.empty());
    std::fprintf(log, "config %s\n%s\n", cfg.to_json().c_str(), protocol_line(cfg).c_str());
    const bool interactive = cfg.progress && isatty(fileno(stderr));
    auto meta = [&](int epoch, int64_t step_in_epoch) {
        return std::map<std::string, std::string>{{"epoch", std::to_string(epoch)},
                                                  {"step_in_epoch", std::to_string(step_in_epoch)},
                                                  {"global_step", std::to_string(global_step)},
                                                  {"seed", std::to_string(cfg.seed)},
                                                  {"best_rsum", strfmt("%.17g", best_rsum)},
                                                  {"vocab_size", std::to_string(s.text->vocab_size())},
                                                  {"config", cfg.to_json()}};
    };
    res.checkpoint = cfg.logger_name + "/checkpoint.safetensors";
    res.best_checkpoint = cfg.logger_name + "/model_best.safetensors";
    const std::vector<int> milestones = decay_epochs(cfg);
    std::unique_ptr<Prototypes> protos;
    ProtoOptions popt;
    if (cfg.proto) {
        protos = std::make_unique<Prototypes>(prototype_file(cfg));
        ENSURE(protos->P.size(1) == cfg.embed_size, "%s: prototypes of width %lld, but --embed_size is %lld",
               protos->source.c_str(), (long long)protos->P.size(1), (long long)cfg.embed_size);
        popt.sk_epsilon = cfg.sk_epsilon;
        popt.sinkhorn_iterations = cfg.sinkhorn_iterations;
        popt.proto_temperature = cfg.proto_temperature;
        std::printf("prototypes: opened %s (%lld x %lld), weight %g\n", protos->source.c_str(), (long long)protos->P.size(0),
                    (long long)protos->P.size(1), cfg.proto_weight);
        const int64_t release_k = cfg.dataset == "f30k" ? 896 : cfg.dataset == "coco" ? 2560 : 0;
        if (release_k && protos->P.size(0) != release_k)
            std::printf("note: the release's %s centroids have K = %lld (proto_data/%s_minicpm_kmeans_centroids_%lld.npy); "
                        "these have K = %lld\n", cfg.dataset.c_str(), (long long)release_k, cfg.dataset.c_str(),
                        (long long)release_k, (long long)protos->P.size(0));
    }
    TripletOptions topt;
    topt.margin = cfg.margin;
    topt.cutoff = cfg.trip_cutoff;
    topt.reference_skip = cfg.trip_reference_skip;
    bool stopped = false;
    int64_t skipped_total = 0, skipped_run = 0;  // non-finite losses: updates skipped, in all and in a row
    // BatchNorm's running statistics move in the forward pass: a skipped step restores them (the
    // reference keeps them, so one NaN batch leaves NaN statistics behind for evaluation)
    std::vector<std::pair<Tensor, Tensor>> bn_stats;  // (live buffer, its copy before the step)
    for (auto& [name, t] : model.named_buffers()) bn_stats.push_back({t, Tensor()});
    // On the device (without --trace) the host does not wait for a step: the device skips a
    // non-finite step itself (AdamW::clip), BatchNorm's statistics are kept and restored by
    // copy_many under the device's skip flag, and the steps' loss and norm collect in a history in
    // device memory, read back on log steps (and at an epoch's end) to write the log lines.
    const bool deferred = dev == Device::CUDA && !trace.on();
    struct PendingStep {  // a step whose loss and norm are still in device memory
        int64_t global_step, step;  // before the step: its global index and its index in the epoch
        int epoch;
        float lr;
        double data_s;
        std::vector<int64_t> img_ids;  // the batch's first 16 images (a skipped step's message)
        bool more_ids;
        LossTerms terms;
    };
    std::vector<PendingStep> pending;
    Tensor hist;  // (rows, 3): loss, norm, skipped; row i for pending[i]
    int64_t hist_rows = 0;
    std::vector<void*> bn_live, bn_copy;  // (the buffers of bn_stats, for copy_many)
    std::vector<int64_t> bn_words;
    if (deferred)
        for (auto& [live, copy] : bn_stats) {
            copy = Tensor::empty(live.shape(), live.dtype(), Device::CUDA);
            bn_live.push_back(live.raw()), bn_copy.push_back(copy.raw());
            bn_words.push_back(live.numel() * (int64_t)dtype_size(live.dtype()) / 4);
        }
    auto copy_bn = [&](const float* flag, std::vector<void*>& to, const std::vector<void*>& from) {  // one launch
        if (!bn_words.empty())
            VSD_RUN(active_backend(), copy_many)(flag, to.data(), from.data(), bn_words.data(), (int)bn_words.size());
    };
    // a skipped step's message, naming the batch's first images; stop after 10 in a row
    auto report_skip = [&](int epoch, int64_t step, const std::vector<int64_t>& img_ids, bool more, const std::string& which) {
        skipped_total++;
        skipped_run++;
        std::string ids;
        for (size_t r = 0; r < img_ids.size(); r++) ids += strfmt("%s%lld", r ? " " : "", (long long)img_ids[r]);
        std::string line = strfmt("epoch %d step %lld: non-finite %s; images %s%s: update skipped (%lld in a row, %lld in all)",
                                  epoch + 1, (long long)step + 1, which.c_str(), ids.c_str(), more ? " ..." : "",
                                  (long long)skipped_run, (long long)skipped_total);
        std::fprintf(stderr, "%s%s\n", interactive ? "\n" : "", line.c_str());
        std::fprintf(log, "%s\n", line.c_str());
        ENSURE_HINT(skipped_run < 10, "lower --learning_rate, or check the inputs with tools/npy_inspect (NaN/Inf counts)",
                    "%lld steps in a row had a non-finite loss or gradient (last: epoch %d step %lld, %s); stopping",
                    (long long)skipped_run, epoch + 1, (long long)step + 1, which.c_str());
    };
    for (int epoch = start_epoch; epoch < cfg.num_epochs && !stopped; epoch++) {
        const float lr = step_decay_lr(cfg.learning_rate, epoch, milestones, cfg.decay_rate);
        opt.set_lr(lr);
        const bool max_violation = epoch >= cfg.vse_mean_warmup_epochs;
        if (replay) replay->start_epoch(epoch, epoch == start_epoch ? skip : 0);
        else loader.start_epoch(epoch, epoch == start_epoch ? skip : 0);
        Progress prog(strfmt("epoch %d/%d", epoch + 1, cfg.num_epochs), per_epoch, cfg.log_step);
        Batch b;
        int64_t step = epoch == start_epoch ? skip : 0;
        const int64_t first_step = step;
        double loss_avg = 0;
        auto t_epoch = std::chrono::steady_clock::now(), t_end = t_epoch, t_window = t_epoch;
        // an updated step's record: the run log, train.log, the console at --log_step
        auto report_step = [&](int64_t gstep, int64_t step_done, float lv, const std::vector<std::pair<std::string, float>>& values,
                               float gnorm, double ms, double data_s) {
            runlog.step(gstep, epoch, step_done - 1, lr, lv, values, gnorm, ms / 1000, data_s);
            loss_avg = step_done == first_step + 1 ? lv : 0.9 * loss_avg + 0.1 * lv;
            const double per_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count() /
                                    (double)(step_done - first_step);
            std::string line = strfmt("epoch %d | step %lld/%lld | loss %.4f | lr %.1e | %.1f ms/step | ETA %s", epoch + 1,
                                      (long long)step_done, (long long)per_epoch, lv, lr, ms,
                                      Progress::format_duration(per_step * (double)(per_epoch - step_done)).c_str());
            std::fprintf(log, "%s\n", line.c_str());
            if (!interactive && cfg.progress && (step_done % std::max(1, cfg.log_step) == 0 || step_done == per_epoch)) {
                std::printf("%s\n", line.c_str());  // the same lines as train.log, at --log_step
                std::fflush(stdout);
            }
        };
        // deferred: read the pending steps' history (one copy), settle the optimiser's counts, and
        // report each step (its ms: the window's wall time over its steps)
        auto flush_pending = [&]() {
            if (pending.empty()) return;
            const std::vector<float> h = hist.to_vector();
            opt.settle();
            const auto now = std::chrono::steady_clock::now();
            const double ms = std::chrono::duration<double, std::milli>(now - t_window).count() / (double)pending.size();
            t_window = now;
            for (size_t i = 0; i < pending.size(); i++) {
                const PendingStep& p = pending[i];
                const float lv = h[3 * i], gnorm = h[3 * i + 1];
                if (h[3 * i + 2] != 0.0f) {
                    report_skip(p.epoch, p.step, p.img_ids, p.more_ids, !std::isfinite(lv) ? "loss (" + nonfinite_terms(p.terms) + ")"
                                                                            : strfmt("gradient (norm %g)", gnorm));
                    continue;
                }
                skipped_run = 0;
                std::vector<std::pair<std::string, float>> values;
                for (auto& [name, t] : p.terms.terms) values.push_back({name, p.terms.terms.size() == 1 ? lv : t.item()});
                report_step(p.global_step + 1, p.step + 1, lv, values, gnorm, ms, p.data_s);
            }
            pending.clear();
        };
        while (replay ? replay->next(b) : loader.next(b)) {
            auto t0 = std::chrono::steady_clock::now();
            const double data_s = std::chrono::duration<double>(t0 - t_end).count();  // waiting for the batch
            batch_to(b, dev);
            opt.zero_grad();
            if (!deferred) for (auto& [live, copy] : bn_stats) copy = live.clone();
            else copy_bn(nullptr, bn_copy, bn_live);
            // BERT's dropout masks come from (seed, step): a resumed run draws the same ones
            Rng drop(cfg.seed * 0xD6E8FEB86659FD93ull + (uint64_t)global_step * 0x9E3779B97F4A7C15ull + 1);
            model.dropout_rng = &drop;
            // HREM's relation module joins after `warmup` iterations (paper-notes §3.4)
            const bool relation_on = model.criterion && cfg.relation && global_step >= cfg.warmup;
            if (relation_on && global_step == cfg.warmup && cfg.progress)
                std::printf("\nstep %lld: HREM's relation module switches on\n", (long long)global_step);
            // the triplet sampler of call j of this step draws from (seed, step, j)
            int sampler_calls = 0;
            auto trip = [&](const Tensor& v, const Tensor& t) {
                Rng sampler(cfg.seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)(global_step + 1) * 0xBF58476D1CE4E5B9ull ^
                            (uint64_t)sampler_calls * 0x94D049BB133111EBull);
                TripletOptions o = topt;
                if (replay) {  // the negatives the recorded run sampled, direction by direction
                    o.recorded[0] = replay->negatives(2 * sampler_calls);
                    o.recorded[1] = replay->negatives(2 * sampler_calls + 1);
                }
                sampler_calls++;
                return triplet_loss(v, t, b.img_ids, o, sampler);
            };
            // L_m: the matching loss of the recipe, VSE++ (GPO) or the triplet (VSD, HREM)
            auto L_m = [&](const Tensor& v, const Tensor& t) {
                return cfg.loss_type == "vse" ? contrastive_loss(v, t, b.img_ids, cfg.margin, max_violation, cfg.mask_repeat)
                                              : trip(v, t);
            };
            const LossTerms terms = batch_loss(model, b, cfg, relation_on, L_m, protos.get(), popt, drop);
            model.dropout_rng = nullptr;
            const Tensor& loss = terms.total;
            // the backward pass, then the gradient norm (clipped to --grad_clip; infinite max: measured,
            // not clipped) and the loss
            backward(loss);
            const float max_norm = cfg.grad_clip > 0 ? cfg.grad_clip : INFINITY;
            const std::vector<int64_t> first_ids(b.img_ids.begin(), b.img_ids.begin() + std::min<int64_t>(b.size, 16));
            if (deferred) {
                // The device decides a skip itself (a non-finite loss or norm: no update, BatchNorm's
                // statistics restored), and the loss and the norm go to a history row in device memory;
                // the host reads the rows on log steps. Nothing comes back inside this step.
                if (hist_rows == (int64_t)pending.size()) {  // (first step, or a longer window)
                    hist_rows = std::max<int64_t>(2 * hist_rows, std::max(16, cfg.log_step));
                    Tensor grown = Tensor::zeros({hist_rows, 3}, DType::F32, Device::CUDA);
                    if (hist.defined() && hist.numel()) grown.backend().copy_on_device(grown.data(), hist.data(), hist.numel() * 4);
                    hist = grown;
                }
                opt.clip(all_params, max_norm, loss, hist.data() + 3 * (int64_t)pending.size());
                copy_bn(opt.skip_flag(), bn_live, bn_copy);  // BatchNorm's statistics back, if the device skipped the step
                opt.step();  // (a no-op on the device when it skipped)
                pending.push_back({global_step, step, epoch, lr, data_s, first_ids, b.size > 16, terms});
                step++;
                global_step++;
                t_end = std::chrono::steady_clock::now();
                if (step_observer()) step_observer()(global_step, b.tokens.size(1));
                const bool last = step == per_epoch || (cfg.max_steps > 0 && global_step >= cfg.max_steps);
                if (last || step % std::max(1, cfg.log_step) == 0) flush_pending();
                if (interactive) prog.update(step, strfmt("loss %.4f | lr %.1e", loss_avg, lr));
            } else {
                const StepScalars read = opt.clip_and_read(all_params, max_norm, loss);  // on the device: one read
                const float lv = read.loss, gnorm = read.grad_norm;
                // A non-finite loss or gradient skips the update (the reference: `if torch.isnan(loss): return`);
                // we also say where, keep BatchNorm's statistics clean, and stop after 10 in a row
                if (!std::isfinite(lv) || !std::isfinite(gnorm)) {
                    restore_buffers(bn_stats);
                    report_skip(epoch, step, first_ids, b.size > 16, !std::isfinite(lv) ? "loss (" + nonfinite_terms(terms) + ")"
                                                   : strfmt("gradient (norm %g)", gnorm) + first_nonfinite_gradient(model));
                    step++;
                    global_step++;
                    continue;
                }
                skipped_run = 0;
                opt.step();
                // the terms' values (the trace, TensorBoard); a lone term is the loss already read
                std::vector<std::pair<std::string, float>> values;
                for (auto& [name, t] : terms.terms) values.push_back({name, terms.terms.size() == 1 ? lv : t.item()});
                if (trace.on()) trace.write(global_step, epoch, lr, values, gnorm, model);
                step++;
                global_step++;
                t_end = std::chrono::steady_clock::now();
                const double ms = std::chrono::duration<double, std::milli>(t_end - t0).count();
                if (step_observer()) step_observer()(global_step, b.tokens.size(1));
                report_step(global_step, step, lv, values, gnorm, ms, data_s);
                if (interactive) prog.update(step, strfmt("loss %.4f | lr %.1e | %.0f ms/step", loss_avg, lr, ms));
            }
            if (cfg.max_steps > 0 && global_step >= cfg.max_steps) {
                stopped = true;
                save_checkpoint(res.checkpoint, model, &opt, meta(step >= per_epoch ? epoch + 1 : epoch, step >= per_epoch ? 0 : step));
                break;
            }
        }
        flush_pending();  // (a no-op unless the loader ended an epoch early)
        if (interactive && !stopped) prog.finish(strfmt("loss %.4f", loss_avg));
        // ---- validation (and, with --max_steps, after the last step too, so a short run is evaluated) ----
        const bool best = s.val && validate_epoch(model, *s.val, *val_text, cfg, epoch, log, res, best_rsum);
        if (s.val) runlog.validation(global_step, res.last_val);
        runlog.epoch_end(epoch);
        if (best) save_checkpoint(res.best_checkpoint, model, nullptr, meta(stopped ? epoch : epoch + 1, 0));
        if (stopped) {
            // without validation model_best is the last state, as at the end of a whole run, so that
            // `eval` finds one in the run folder after a short run too
            if (!s.val) save_checkpoint(res.best_checkpoint, model, nullptr, meta(epoch, 0));
            break;
        }
        save_checkpoint(res.checkpoint, model, &opt, meta(epoch + 1, 0));
    }
    if (!s.val && !stopped) save_checkpoint(res.best_checkpoint, model, nullptr, meta(cfg.num_epochs, 0));
    if (skipped_total) std::printf("%lld updates were skipped for a non-finite loss (see train.log)\n", (long long)skipped_total);
    std::fclose(log);
    res.steps = global_step;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return res;
}

// ---------------------------------------------------------------------------------------------
// evaluation

static std::vector<double> load_sims(const std::string& path, int64_t* n_img, int64_t* n_cap) {
    // the reference's evalrank(save_path=...) file: np.save of {'npts', 'sims'}, a pickle in a .npy
    if (const size_t at = npy_pickle_offset(path)) return load_pickled_sims(path, at, n_img, n_cap);
    NpyArray a = npy_open(path);
    ENSURE(a.shape.size() == 2, "%s: expected a 2-d similarity matrix, found %s", path.c_str(), a.shape_str().c_str());
    ENSURE_HINT(a.shape[0] > 0 && a.shape[1] > 0 && a.shape[1] % a.shape[0] == 0, "save it with eval --save_sims",
                "%s: expected an (images, k x images) similarity matrix, found %s", path.c_str(), a.shape_str().c_str());
    *n_img = a.shape[0];
    *n_cap = a.shape[1];
    std::vector<double> s(a.numel());
    for (int64_t i = 0; i < a.numel(); i++) s[i] = a.at(i);
    return s;
}

std::string our_name_of_reference(const std::string& name) {
    const bool img = name.rfind("img_enc.", 0) == 0, txt = name.rfind("txt_enc.", 0) == 0;
    if (name.rfind("criterion.adj_model.adj_learning.mlp_", 0) == 0)  // HREM's relation module (GraphLoss)
        return "criterion.adj_" + name.substr(37);                    // mlp_t2i.0.weight -> adj_t2i.0.weight
    if (!img && !txt) return name;
    std::string k = name.substr(8);
    if (k.rfind("gated_fusion.", 0) == 0 || k == "bert.embeddings.position_ids") return "";  // never used by the forward
    if (k.rfind("gpo.", 0) == 0) k = "gpool." + k.substr(4);               // VSD's GPO
    else if (img && k.rfind("fc.fc.", 0) == 0) k = "fc." + k.substr(6);    // HREM's FC_MLP
    else if (img && k.rfind("fc.mlp.", 0) == 0) k = "mlp." + k.substr(7);
    return name.substr(0, 8) + k;
}

SafeTensors reference_state_as_ours(const SafeTensors& st, std::vector<std::string>* ignored) {
    static const char* part[3] = {"img_enc.", "txt_enc.", "criterion."};
    SafeTensors out;
    out.metadata = st.metadata;
    for (auto& [n, t] : st.tensors) {
        int k = 0;
        while (k < 3 && n.rfind(strfmt("model.%d.", k), 0) != 0) k++;
        if (k == 3) continue;  // 'opt', 'epoch', ...
        std::string key = n.substr(8);
        if (key.rfind("module.", 0) == 0) key = key.substr(7);  // nn.DataParallel
        const std::string ref = part[k] + key, ours = our_name_of_reference(ref);
        if (!ours.empty()) out.tensors.push_back({ours, t});
        else if (ignored) ignored->push_back(ref);
    }
    return out;
}

// A checkpoint written by one of the reference codebases ({'model': [img_enc, txt_enc], 'opt': ...},
// flattened by torch_load to "model.0.<key>" / "model.1.<key>") renamed to our names, with the
// model it needs. Five families: vse_infty master (BERT, DataParallel's "module." prefix), vse_infty
// bigru, VSD's GPO+VSD ("gpo.*", unused "gated_fusion.*"), HREM ("fc.fc.*", "fc.mlp.*", "aggr.*"; the
// relation module is not saved) and VSD_HREM (HREM's names plus "gated_fusion.*").
static SafeTensors from_reference_checkpoint(const SafeTensors& st, const EvalConfig& ec, TrainConfig& c, std::string* what) {
    auto strip = [](std::string n) {
        if (n.rfind("module.", 0) == 0) n = n.substr(7);  // nn.DataParallel
        return n;
    };
    bool img_any = false, hrem = false, vsd_gpo = false, gated = false, bert = false, bigru = false, dp = false;
    for (auto& [n, t] : st.tensors) {
        const bool img = n.rfind("model.0.", 0) == 0, txt = n.rfind("model.1.", 0) == 0;
        if (!img && !txt) continue;
        const std::string k = strip(n.substr(8));
        dp |= n.compare(8, 7, "module.") == 0;
        img_any |= img;
        if (img && k == "fc.fc.weight") hrem = true;
        if (img && k == "gpo.linear.weight") vsd_gpo = true;
        if (k.rfind("gated_fusion.", 0) == 0) gated = true;
        if (txt && k == "bert.embeddings.word_embeddings.weight") bert = true;
        if (txt && k == "embed.weight") bigru = true;
    }
    ENSURE_HINT(img_any && (bert || bigru), "evaluate a checkpoint written by train, or a reference model_best.pth",
                "%s: neither our checkpoint (no config in its metadata) nor a reference checkpoint ({'model': [img_enc, "
                "txt_enc]} with a BERT or BiGRU text encoder)", ec.checkpoint.c_str());
    const bool is_vsd = vsd_gpo || gated;
    const char* family = hrem ? (is_vsd ? "VSD_HREM (HREM+VSD)" : "HREM")
                              : vsd_gpo ? "VSD (GPO+VSD)" : (bigru ? "vse_infty bigru (GPO, BiGRU)" : "vse_infty (GPO, BERT)");
    c.model = hrem ? "hrem" : "gpo";
    ENSURE(ec.model.empty() || ec.model == c.model, "%s: a %s checkpoint, but --model %s was given", ec.checkpoint.c_str(),
           family, ec.model.c_str());
    c.text_encoder = bert ? "bert" : "bigru";
    c.vsd = ec.vsd;
    if (is_vsd && (c.vsd.empty() || c.vsd == "none")) {
        c.vsd = "cpm";
        std::printf("%s checkpoint: fusing the MiniCPM-V descriptions (the release's default, --vsd cpm); pass --vsd flor "
                    "for a ⋆ model\n", family);
    }
    ENSURE_HINT(is_vsd || c.vsd == "none" || c.vsd.empty(), "drop --vsd",
                "%s: a %s checkpoint has no VSD fusion, but --vsd %s was given", ec.checkpoint.c_str(), family, c.vsd.c_str());
    if (c.vsd.empty()) c.vsd = "none";
    c.cap_emb = hrem ? "cap_bge_cpm" : "cap_bge";
    auto opt = [&](const char* key) -> const std::string* {
        auto it = st.metadata.find(std::string("opt.") + key);
        return it == st.metadata.end() ? nullptr : &it->second;
    };
    const std::string* ds = opt("dataset") ? opt("dataset") : opt("data_name");
    c.dataset = !ec.dataset.empty() ? ec.dataset : (ds ? *ds : "f30k");
    if (c.dataset.find("coco") != std::string::npos) c.dataset = ec.dataset.empty() ? "coco" : c.dataset;
    c.data_path = ec.data_path.empty() ? "data" : ec.data_path;
    c.vocab_path = c.data_path + "/vocab";
    if (!ec.bert_path.empty()) c.bert_path = ec.bert_path;
    if (const std::string* v = opt("nhead")) c.nhead = std::stoll(*v);
    if (const std::string* v = opt("residual_weight")) c.residual_weight = std::stof(*v);
    // rename to our names; list what is dropped
    std::vector<std::string> ignored;
    SafeTensors out = reference_state_as_ours(st, &ignored);
    const Tensor* fc = out.find("img_enc.fc.weight");
    ENSURE(fc && fc->ndim() == 2, "%s: no 2-d img_enc fc.weight", ec.checkpoint.c_str());
    c.img_dim = fc->size(1);
    c.embed_size = fc->size(0);
    if (const Tensor* e = out.find("txt_enc.embed.weight")) c.word_dim = e->size(1);
    *what = strfmt("reference checkpoint: %s%s, img_dim %lld, embed %lld, dataset %s, vsd %s", family,
                   dp ? " (DataParallel: module. prefix removed)" : "", (long long)c.img_dim, (long long)c.embed_size,
                   c.dataset.c_str(), c.vsd.c_str());
    std::printf("%s\n", what->c_str());
    if (!ignored.empty()) {
        std::string list;
        for (size_t i = 0; i < ignored.size(); i++) list += (i ? ", " : "") + ignored[i];
        std::printf("ignored %zu tensor%s that the forward never uses: %s\n", ignored.size(), ignored.size() > 1 ? "s" : "",
                    list.c_str());
    }
    return out;
}

// VSD's eval_bge.py: rank by description . caption embeddings alone (image i = aux row 5i)
static std::vector<double> bge_only_sims(const PrecompDataset& d, int64_t* n_img, int64_t* n_cap) {
    ENSURE(d.desc_emb && d.cap_emb, "--bge_only needs the split's VSD files (pass --vsd cpm or flor)");
    const int64_t N = d.length, E = d.desc_emb->row_numel();
    *n_cap = N;
    *n_img = (N + d.im_div - 1) / d.im_div;
    std::vector<float> img(*n_img * E), cap(N * E);
    auto row = [&](const NpyArray& a, const std::string& file, int64_t r, float* dst) {
        Tensor t = a.rows_tensor(r, 1, DType::F32);
        for (int64_t j = 0; j < E; j++)
            ENSURE_HINT(std::isfinite(t.data()[j]), "repair or re-create the file (tools/npy_inspect counts NaN/Inf)",
                        "%s: row %lld, column %lld is %g (not finite)", file.c_str(), (long long)r, (long long)j, t.data()[j]);
        std::copy(t.data(), t.data() + E, dst);
    };
    for (int64_t i = 0; i < *n_img; i++) row(*d.desc_emb, d.desc_file, i * d.im_div, img.data() + i * E);
    for (int64_t c = 0; c < N; c++) row(*d.cap_emb, d.cap_emb_file, c, cap.data() + c * E);
    Embeddings e;
    e.img = std::move(img);
    e.cap = std::move(cap);
    e.n_img = *n_img;
    e.n_cap = N;
    e.E = E;
    return similarities(e);
}

LoadedModel load_checkpoint_model(const EvalConfig& ec) {
    LoadedModel lm;
    SafeTensors st = load_weights_file(ec.checkpoint);
    TrainConfig& c = lm.cfg;
    auto it = st.metadata.find("config");
    if (it != st.metadata.end()) {  // ours: the training config travels in the checkpoint
        Json j = Json::parse(it->second, ec.checkpoint + " (config)");
        c.data_path = ec.data_path.empty() ? j["data_path"].as_string() : ec.data_path;
        c.dataset = ec.dataset.empty() ? j["dataset"].as_string() : ec.dataset;
        c.vocab_path = ec.data_path.empty() ? j["vocab_path"].as_string() : ec.data_path + "/vocab";
        // the run folder keeps the vocabulary it was trained with (a COCO model evaluates on F30K)
        const std::string run_vocab = ec.checkpoint.substr(0, ec.checkpoint.rfind('/') + 1) + "vocab.json";
        struct stat vst;
        if (stat(run_vocab.c_str(), &vst) == 0) c.vocab_path = run_vocab;
        if (const Json* v = j.find("cap_emb")) c.cap_emb = v->as_string();
        if (const Json* v = j.find("protocol")) lm.protocol = v->as_string();
        lm.what = strfmt("%s checkpoint %s", j.find("row") ? (*j.find("row")).as_string().c_str() : "our", ec.checkpoint.c_str());
        c.vsd = j["vsd"].as_string();
        c.model = j["model"].as_string();
        c.text_encoder = j["text_encoder"].as_string();
        if (const Json* v = j.find("nhead")) c.nhead = v->as_int();
        if (const Json* v = j.find("residual_weight")) c.residual_weight = (float)v->as_double();
        if (const Json* v = j.find("maxk_reference")) c.maxk_reference = v->as_int() != 0;
        if (const Json* v = j.find("topk")) c.topk = (int)v->as_int();
        if (const Json* bp = j.find("bert_path")) c.bert_path = bp->as_string();
        c.embed_size = j["embed_size"].as_int();
        c.word_dim = j["word_dim"].as_int();
        c.img_dim = j["img_dim"].as_int();
    } else {  // a reference model_best.pth: {'model': [img_enc, txt_enc], 'opt': ...}
        st = from_reference_checkpoint(st, ec, c, &lm.what);
        lm.protocol = "reference";
    }
    if (const Tensor* e = st.find("txt_enc.embed.weight")) lm.vocab_rows = e->size(0);
    Rng rng(0);
    lm.model = std::make_unique<VSEModel>(model_config(c, (int)lm.vocab_rows), rng);
    // HREM's relation module is training-only: the reference does not save it, and eval never runs it
    load_model_weights(*lm.model, st, ec.checkpoint, {"criterion."});
    lm.model->eval();
    return lm;
}

// what the report shows of the split besides the matrix: its captions and its image files
static void keep_for_report(EvalResult& r, const PrecompDataset& d) {
    r.captions = d.caps;
    r.captions.resize(r.n_cap);
    r.image_files = image_files(d);
}

EvalResult evaluate_checkpoint(const EvalConfig& ec) {
    EvalResult r;
    std::vector<double> sims;
    int per = 5;
    if (ec.bge_only) {
        TrainConfig c;
        c.data_path = ec.data_path.empty() ? "data" : ec.data_path;
        c.dataset = ec.dataset.empty() ? "f30k" : ec.dataset;
        c.vsd = ec.vsd == "none" || ec.vsd.empty() ? "cpm" : ec.vsd;
        c.model = ec.model.empty() ? "gpo" : ec.model;
        PrecompDataset d = open_split(c, ec.split, true);
        sims = bge_only_sims(d, &r.n_img, &r.n_cap);
        per = (int)d.im_div;
        keep_for_report(r, d);
        r.what = strfmt("BGE only (VSD's eval_bge.py): %s descriptions . caption embeddings, no model", c.vsd.c_str());
        r.protocol = "none";
    } else if (!ec.ensemble.empty()) {
        // average similarity matrices, as the papers' ensemble rows (the reference's eval_ensemble): each
        // entry a saved matrix (.npy), or a run folder whose model is evaluated on the split here
        std::stringstream ss(ec.ensemble);
        std::string p;
        int k = 0;
        std::vector<std::string> parts;
        while (std::getline(ss, p, ',')) {
            if (p.empty()) continue;
            int64_t ni, nc;
            std::vector<double> s;
            struct stat st;
            if (stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {  // a run folder: its model_best on the split
                EvalConfig one = ec;
                one.ensemble.clear();
                one.checkpoint = p + "/model_best.safetensors";
                one.save_sims.clear();
                EvalResult er = evaluate_checkpoint(one);
                s = std::move(er.sims), ni = er.n_img, nc = er.n_cap;
                if (r.captions.empty()) r.captions = er.captions, r.image_files = er.image_files;
                parts.push_back(er.what);
            } else {
                s = load_sims(p, &ni, &nc);
                parts.push_back("similarities " + p);
            }
            if (k == 0) { sims = s; r.n_img = ni; r.n_cap = nc; }
            else {
                ENSURE_HINT(ni == r.n_img && nc == r.n_cap, "ensemble models evaluated on the same split",
                            "%s: shape (%lld, %lld) differs from the first matrix (%lld, %lld)", p.c_str(), (long long)ni,
                            (long long)nc, (long long)r.n_img, (long long)r.n_cap);
                for (size_t i = 0; i < sims.size(); i++) sims[i] += s[i];
            }
            k++;
        }
        ENSURE_HINT(k > 0, "e.g. --ensemble runs/a,runs/b", "--ensemble names nothing");
        for (double& v : sims) v /= k;
        r.what = strfmt("ensemble of %d (the mean of their similarities):", k);
        for (const std::string& w : parts) r.what += "\n  " + w;
        r.protocol = "none";
        per = (int)(r.n_cap / r.n_img);
    } else if (is_clip_checkpoint(ec.checkpoint)) {  // CLIP, CLIP+VSD (clip_train.h)
        sims = clip_split_sims(ec, r, &per);
        if (!ec.save_sims.empty())
            npy_save_raw(ec.save_sims, "<f8", {r.n_img, r.n_cap}, sims.data(), sims.size() * 8);
    } else {
        LoadedModel lm = load_checkpoint_model(ec);
        TrainConfig& c = lm.cfg;
        VSEModel& model = *lm.model;
        r.what = lm.what;
        r.protocol = lm.protocol;
        PrecompDataset d = open_split(c, ec.split, true);
        std::unique_ptr<TextFront> front = make_text_front(c);
        TextFront& text = *front;
        ENSURE_HINT(c.text_encoder != "bigru" || text.vocab_size() == lm.vocab_rows,
                    "evaluate with the vocabulary the model was trained with (the run folder's vocab.json, or --data_path's vocab/)",
                    "%s: the model's word embedding has %lld rows, but the vocabulary %s gives %d (with <mask>)",
                    ec.checkpoint.c_str(), (long long)lm.vocab_rows, c.vocab_path.c_str(), text.vocab_size());
        text.prepare(d.caps);
        model.to(select_device(ec.device, ec.cudnn, ec.tf32, ec.precision));
        std::printf("%s\n", d.summary().c_str());
        Embeddings e = encode_split(model, d, text, ec.batch_size, ec.progress);
        sims = similarities(e);
        r.n_img = e.n_img;
        r.n_cap = e.n_cap;
        per = (int)d.im_div;
        keep_for_report(r, d);
        if (!ec.save_sims.empty()) {
            npy_save_raw(ec.save_sims, "<f8", {r.n_img, r.n_cap}, sims.data(), sims.size() * 8);
            std::printf("saved the %lld x %lld similarity matrix to %s\n", (long long)r.n_img, (long long)r.n_cap,
                        ec.save_sims.c_str());
        }
    }
    r.ranks = query_ranks(sims, r.n_img, r.n_cap, per);  // the metrics', and the report's
    r.full = retrieval_metrics(r.ranks);
    if (ec.fold5) {
        r.fold5 = retrieval_metrics_5fold(sims, r.n_img, r.n_cap, per);
        r.has_fold5 = true;
    }
    r.sims = std::move(sims);
    r.per = per;
    return r;
}

}  // namespace vsd
