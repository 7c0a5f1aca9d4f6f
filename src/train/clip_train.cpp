// clip_train.cpp — CLIP and CLIP+VSD on raw pictures: data, training loop, evaluation (clip_train.h).
#include "clip_train.h"

#include <dirent.h>
#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

#include "../../kernels/backend.h"
#include "../core/progress.h"
#include "../data/clip_tokenizer.h"
#include "../data/image.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "../data/torch_load.h"
#include "../nn/clip.h"
#include "../nn/losses.h"
#include "../nn/prototypes.h"
#include "checkpoint.h"
#include "clip_index.h"
#include "optim.h"
#include "pca.h"

namespace vsd {

namespace {

bool exists(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

// A split as CLIP reads it: the pictures (through ids.txt and id_mapping.json), the captions'
// token ids, the VSD rows; and the cropped pictures kept in memory while they fit.
struct ClipSplit {
    PrecompDataset d;
    std::vector<std::string> files;          // per image
    std::vector<std::vector<int64_t>> ids;   // per caption: [SOT] ... [EOT]
    ClipPreprocess pre;
    std::vector<std::vector<uint8_t>> cache;  // per image: size x size x 3, empty until decoded
    bool caching = false;
    ImageOptions read;

    // (B, 3, S, S) for these images; the missing ones decoded on all threads
    Tensor pixels(const std::vector<int64_t>& imgs) {
        const int S = pre.size;
        std::vector<int64_t> todo;
        std::map<int64_t, std::vector<uint8_t>> fresh;
        for (int64_t i : imgs)
            if ((!caching || cache[i].empty()) && !fresh.count(i)) { fresh[i]; todo.push_back(i); }
        std::vector<std::string> err(todo.size());
#pragma omp parallel for schedule(dynamic)
        for (int64_t t = 0; t < (int64_t)todo.size(); t++) {
            try {
                fresh.at(todo[t]) = clip_resize_crop(to_rgb(image_read(files[todo[t]], read)), pre).pixels;
            } catch (const std::exception& e) {
                err[t] = e.what();
            }
        }
        for (const std::string& e : err) ENSURE(e.empty(), "%s", e.c_str());
        std::vector<float> out((size_t)imgs.size() * 3 * S * S);
        for (size_t b = 0; b < imgs.size(); b++) {
            const auto it = fresh.find(imgs[b]);
            Image crop;
            crop.width = crop.height = S;
            crop.channels = 3;
            crop.pixels = it != fresh.end() ? it->second : cache[imgs[b]];
            clip_normalize(crop, out.data() + b * 3 * S * S, pre);
        }
        if (caching)
            for (auto& [i, px] : fresh) cache[i] = std::move(px);
        return Tensor::from({(int64_t)imgs.size(), 3, S, S}, out);
    }
    Tensor tokens(const std::vector<int64_t>& caps) const {  // (B, L_max), 0-padded
        size_t L = 1;
        for (int64_t c : caps) L = std::max(L, ids[c].size());
        std::vector<int64_t> v(caps.size() * L, 0);
        for (size_t b = 0; b < caps.size(); b++) std::copy(ids[caps[b]].begin(), ids[caps[b]].end(), v.begin() + b * L);
        return Tensor::from_i64({(int64_t)caps.size(), (int64_t)L}, v);
    }
};

// rows of a caption-indexed embedding file, (n, D)
Tensor emb_rows(const NpyArray& a, const std::vector<int64_t>& rows) {
    const int64_t D = a.row_numel();
    std::vector<float> v(rows.size() * D);
    for (size_t i = 0; i < rows.size(); i++) {
        const Tensor r = a.rows_tensor(rows[i], 1, DType::F32);
        std::memcpy(v.data() + i * D, r.data(), D * sizeof(float));
    }
    return Tensor::from({(int64_t)rows.size(), D}, v);
}

ClipSplit open_clip_split(const TrainConfig& c, const std::string& split, const ClipTokenizer& tok, const ClipConfig& cc,
                          bool verbose) {
    ClipSplit s;
    s.d = open_split(c, split, verbose);
    s.files = image_files(s.d);
    int64_t missing = 0;
    std::string first;
    for (int64_t i = 0; i < s.d.n_img; i++)
        if (s.files[i].empty() && missing++ == 0) first = image_ids(s.d)[i];
    ENSURE_HINT(missing == 0, "CLIP reads <dataset>/images/<file> for each id of <split>_ids.txt through <dataset>/id_mapping.json",
                "%s: %lld of the %lld pictures of split '%s' are missing (the first: id '%s')", s.d.dir.c_str(),
                (long long)missing, (long long)s.d.n_img, split.c_str(), first.c_str());
    s.ids.resize(s.d.length);
    for (int64_t k = 0; k < s.d.length; k++) {
        std::vector<int> e = tok.encode(s.d.caps[k], (int)cc.context_length);
        while (e.size() > 1 && e.back() == 0) e.pop_back();
        s.ids[k].assign(e.begin(), e.end());
    }
    s.pre = clip_preprocessing(cc);
    s.cache.resize(s.d.n_img);
    s.read.exif_orientation = c.exif_orientation;
    s.caching = (double)s.d.n_img * cc.image_size * cc.image_size * 3 <= (double)c.image_cache_mb * 1048576.0;
    return s;
}

// Embeddings of a whole split: images (N_img, E) with the description of row im_div * i, captions (length, E)
Embeddings encode_clip_split(const ClipMatcher& m, ClipSplit& s, int64_t B, bool progress) {
    NoGrad ng;
    const Device dev = m.clip.logit_scale.device();
    const bool vsd = m.vsd_dim > 0;
    Embeddings e;
    e.n_img = s.d.n_img;
    e.n_cap = s.d.length;
    e.E = m.clip.cfg.embed_dim;
    Progress bar("encode " + s.d.split, e.n_img + e.n_cap);
    for (int64_t i0 = 0; i0 < e.n_img; i0 += B) {
        std::vector<int64_t> imgs, rows;
        for (int64_t i = i0; i < std::min(e.n_img, i0 + B); i++) imgs.push_back(i), rows.push_back(i * s.d.im_div);
        const Tensor v = m.image_side(s.pixels(imgs).to(dev), vsd ? emb_rows(*s.d.desc_emb, rows).to(dev) : Tensor());
        const std::vector<float> x = v.to(Device::CPU).to_vector();
        e.img.insert(e.img.end(), x.begin(), x.end());
        if (progress) bar.update(i0 + (int64_t)imgs.size());
    }
    for (int64_t c0 = 0; c0 < e.n_cap; c0 += B) {
        std::vector<int64_t> caps;
        for (int64_t c = c0; c < std::min(e.n_cap, c0 + B); c++) caps.push_back(c);
        const Tensor t = m.text_side(s.tokens(caps), vsd ? emb_rows(*s.d.cap_emb, caps).to(dev) : Tensor());
        const std::vector<float> x = t.to(Device::CPU).to_vector();
        e.cap.insert(e.cap.end(), x.begin(), x.end());
        if (progress) bar.update(e.n_img + c0 + (int64_t)caps.size());
    }
    if (progress) bar.finish();
    return e;
}

// <proto_path>/<dataset>_minicpm_kmeans_centroids_<K>_clip<E>.npy: K = --num_prototypes, or the only one there
std::string clip_prototype_file(const TrainConfig& c, int64_t E) {
    const std::string hint = "make prototypes MODEL=clip DATASET=" + c.dataset + " fits them (the PCA, then k-means)";
    if (c.num_prototypes > 0) {
        const std::string f = c.proto_path + "/" + clip_prototype_name(c.dataset, c.num_prototypes, E);
        ENSURE_HINT(exists(f), hint.c_str(), "%s: missing (CLIP+VSD's prototypes)", f.c_str());
        return f;
    }
    std::vector<std::string> found;
    const std::string pre = c.dataset + "_minicpm_kmeans_centroids_", post = "_clip" + std::to_string(E) + ".npy";
    if (DIR* d = opendir(c.proto_path.c_str())) {
        while (dirent* e = readdir(d)) {
            const std::string n = e->d_name;
            if (n.size() > pre.size() + post.size() && n.rfind(pre, 0) == 0 && n.compare(n.size() - post.size(), post.size(), post) == 0)
                found.push_back(n);
        }
        closedir(d);
    }
    ENSURE_HINT(found.size() == 1, hint.c_str(), "%s: expected exactly one %s<K>%s (CLIP+VSD's prototypes), found %zu",
                c.proto_path.c_str(), pre.c_str(), post.c_str(), found.size());
    return c.proto_path + "/" + found[0];
}

}  // namespace

TrainResult train_clip(const TrainConfig& cfg_in) {
    TrainConfig cfg = cfg_in;
    TrainResult res;
    const auto t_start = std::chrono::steady_clock::now();
    const std::string cfg_file = cfg.clip_path + "/open_clip_config.json";
    ENSURE_HINT(exists(cfg_file), cfg.dataset == "demo" ? "a demo generated before CLIP has no CLIP/ folder: remove data/demo and "
                "run make train MODEL=clip again" : "--clip_path: an OpenCLIP folder (the seed's CLIP/ folder)",
                "%s: no open_clip_config.json", cfg.clip_path.c_str());
    const std::string cc_text = read_file(cfg_file, "the CLIP config", "a CLIP folder holds open_clip_config.json");
    const ClipConfig cc = ClipConfig::from_json(cc_text, cfg_file);
    const std::string weights = clip_weights_file(cfg.clip_path);
    if (cfg.clip_lr < 0) cfg.clip_lr = weights.empty() ? 5e-4f : 1e-5f;
    ENSURE_HINT(cfg.clip_lr > 0, "see train --help", "--clip_lr must be positive, got %g", cfg.clip_lr);
    ENSURE_HINT(cfg.resume.empty() && cfg.replay.empty() && cfg.init_from.empty(), "train CLIP from its folder's weights",
                "--resume, --replay and --init_from are not implemented for --model clip yet");
    const bool with_vsd = cfg.vsd != "none";
    std::printf("%s on %s: OpenCLIP %s (%s)\n", cfg.row_name().c_str(), cfg.dataset.c_str(), cfg.clip_path.c_str(),
                weights.empty() ? "no weights: OpenCLIP's random initialisation" : weights.c_str());
    auto tok = load_clip_tokenizer(cfg.clip_path, "", cc);
    if (cfg.dry_run) {
        std::printf("config %s\n", cfg.to_json().c_str());
        for (const std::string& split : {std::string("train"), cfg.val_split}) {
            PrecompDataset d = open_split(cfg, split);
            for (const std::string& f : d.opened) std::printf("  [%s] %s\n", split.c_str(), f.c_str());
        }
        return res;
    }
    ClipSplit train = open_clip_split(cfg, "train", *tok, cc, true);
    std::unique_ptr<ClipSplit> val;
    if (cfg.validate) val = std::make_unique<ClipSplit>(open_clip_split(cfg, cfg.val_split, *tok, cc, true));
    const int64_t B = cfg.batch_size, per_epoch = train.d.length / B;
    ENSURE_HINT(per_epoch > 0, "lower --batch_size", "the training split has %lld captions, fewer than one batch of %lld",
                (long long)train.d.length, (long long)B);
    // ---- the model ----
    Rng init_rng(cfg.seed * 0x2545F4914F6CDD1Dull + 7);
    const int64_t D = with_vsd ? train.d.desc_emb->row_numel() : 0;
    ClipMatcher model(cc, init_rng, D);
    if (!weights.empty()) model.clip.load(load_weights_file(weights), weights);
    if (with_vsd) {  // the PCA of the training descriptions, one row per image
        ENSURE_HINT(D >= cc.embed_dim, "CLIP+VSD reduces the BGE vectors to CLIP's embedding size",
                    "%s: %lld-d descriptions, fewer than CLIP's %lld", train.d.desc_file.c_str(), (long long)D,
                    (long long)cc.embed_dim);
        std::vector<int64_t> rows;
        for (int64_t i = 0; i < train.d.n_img; i++) rows.push_back(i * train.d.im_div);
        const Tensor X = emb_rows(*train.d.desc_emb, rows);
        const Pca p = pca_fit(X.data(), X.size(0), D, cc.embed_dim, 0, cfg.progress);  // seed 0: as make prototypes
        std::vector<float> mean(p.mean.begin(), p.mean.end()), comp(p.components.begin(), p.components.end());
        copy_values(model.pca_mean, Tensor::from({D}, mean));
        copy_values(model.pca_components, Tensor::from({cc.embed_dim, D}, comp));
        double kept = 0;
        for (double v : p.variance) kept += v;
        std::printf("VSD: PCA of %lld training descriptions, %lld -> %lld dimensions (variance kept %.4g)\n",
                    (long long)X.size(0), (long long)D, (long long)cc.embed_dim, kept);
    }
    // VSD's prototype loss in CLIP's space: centroids of the reduced descriptions (make prototypes MODEL=clip)
    std::unique_ptr<Prototypes> protos;
    ProtoOptions popt;
    if (cfg.proto) {
        ENSURE_HINT(with_vsd, "the prototypes are centroids of the descriptions", "--proto 1 needs --vsd cpm or flor");
        const std::string file = clip_prototype_file(cfg, cc.embed_dim);
        protos = std::make_unique<Prototypes>(file);
        ENSURE_HINT(protos->P.size(1) == cc.embed_dim, "make prototypes MODEL=clip fits them for this CLIP",
                    "%s: centroids of width %lld, but CLIP embeds in %lld", file.c_str(), (long long)protos->P.size(1),
                    (long long)cc.embed_dim);
        popt.sk_epsilon = cfg.sk_epsilon;
        popt.sinkhorn_iterations = cfg.sinkhorn_iterations;
        popt.proto_temperature = cfg.proto_temperature;
        std::printf("prototypes: opened %s (%lld x %lld), weight %g\n", file.c_str(), (long long)protos->P.size(0),
                    (long long)protos->P.size(1), cfg.proto_weight);
    }
    const Device dev = select_device(cfg.device, 0, cfg.tf32, cfg.precision);
    model.to(dev);
    std::vector<Tensor> params = model.parameters();
    AdamW opt({ParamGroup{params, 1.0f, cfg.weight_decay}}, cfg.clip_lr);
    std::printf("%s\n", train.d.summary().c_str());
    std::printf("[%s] %s: %lld parameters (%.2f M), %lld x %lld pictures, loss %s, lr %g, %lld steps/epoch, seed %llu\n",
                cfg.dataset.c_str(), cfg.row_name().c_str(), (long long)model.num_parameters(),
                model.num_parameters() / 1048576.0, (long long)cc.image_size, (long long)cc.image_size, cfg.loss_type.c_str(),
                cfg.clip_lr, (long long)per_epoch, (unsigned long long)cfg.seed);
    std::fflush(stdout);
    make_dirs(cfg.logger_name);
    write_file_atomic(cfg.logger_name + "/run.json", "{\"config\": " + cfg.to_json() + "}\n");
    std::FILE* log = std::fopen((cfg.logger_name + "/train.log").c_str(), "w");
    ENSURE(log, "%s/train.log: cannot open for writing", cfg.logger_name.c_str());
    std::setvbuf(log, nullptr, _IOLBF, 0);
    std::fprintf(log, "config %s\n", cfg.to_json().c_str());
    res.checkpoint = cfg.logger_name + "/checkpoint.safetensors";
    res.best_checkpoint = cfg.logger_name + "/model_best.safetensors";
    double best_rsum = -1;
    int64_t global_step = 0;
    auto meta = [&](int epoch) {
        return std::map<std::string, std::string>{{"epoch", std::to_string(epoch)}, {"step_in_epoch", "0"},
                                                  {"global_step", std::to_string(global_step)},
                                                  {"seed", std::to_string(cfg.seed)},
                                                  {"best_rsum", strfmt("%.17g", best_rsum)},
                                                  {"config", cfg.to_json()}, {"clip_config", cc_text}};
    };
    const std::vector<int> decays = decay_epochs(cfg);
    TripletOptions topt;
    topt.margin = cfg.margin;
    topt.cutoff = cfg.trip_cutoff;
    topt.reference_skip = cfg.trip_reference_skip;
    Rng sample_rng(cfg.seed * 31 + 5);
    bool stop = false;
    for (int epoch = 0; epoch < cfg.num_epochs && !stop; epoch++) {
        float lr = cfg.clip_lr;
        for (int m : decays)
            if (epoch >= m) lr *= cfg.decay_rate;
        opt.set_lr(lr);
        model.train();
        // this epoch's order: a seeded shuffle of the captions (Fisher-Yates)
        std::vector<int64_t> order(train.d.length);
        for (int64_t i = 0; i < train.d.length; i++) order[i] = i;
        Rng shuffle(cfg.seed * 1000003ull + (uint64_t)epoch);
        for (int64_t i = train.d.length - 1; i > 0; i--) std::swap(order[i], order[(int64_t)(shuffle.next_u64() % (uint64_t)(i + 1))]);
        Progress bar(strfmt("epoch %d/%d", epoch + 1, cfg.num_epochs), per_epoch);
        double loss_sum = 0;
        int64_t loss_n = 0;
        for (int64_t b = 0; b < per_epoch; b++) {
            std::vector<int64_t> caps(order.begin() + b * B, order.begin() + (b + 1) * B), imgs;
            for (int64_t c : caps) imgs.push_back(train.d.image_of(c));
            std::vector<int64_t> desc_rows;
            for (int64_t i : imgs) desc_rows.push_back(i * train.d.im_div);
            const Tensor V = model.image_side(train.pixels(imgs).to(dev), with_vsd ? emb_rows(*train.d.desc_emb, desc_rows).to(dev) : Tensor());
            const Tensor T = model.text_side(train.tokens(caps), with_vsd ? emb_rows(*train.d.cap_emb, caps).to(dev) : Tensor());
            Tensor loss;
            if (cfg.loss_type == "infonce") loss = infonce_loss(V, T, imgs, model.clip.logit_scale);
            else if (cfg.loss_type == "trip") loss = triplet_loss(V, T, imgs, topt, sample_rng);
            else loss = contrastive_loss(V, T, imgs, cfg.margin, epoch >= cfg.vse_mean_warmup_epochs, cfg.mask_repeat);
            if (protos) loss = loss + protos->loss(V, T, popt) * cfg.proto_weight;
            tape().backward(loss);
            const StepScalars sc = opt.clip_and_read(params, cfg.grad_clip, loss);
            global_step++;
            if (std::isfinite(sc.loss) && std::isfinite(sc.grad_norm)) {
                opt.step();
                loss_sum += sc.loss;
                loss_n++;
            } else {
                std::printf("step %lld: loss %g, gradient norm %g: not finite, the step is skipped\n", (long long)global_step,
                            sc.loss, sc.grad_norm);
            }
            opt.zero_grad();
            if (global_step % cfg.log_step == 0)
                std::fprintf(log, "epoch %d step %lld/%lld loss %.6f grad_norm %.4f lr %g logit_scale %.4f\n", epoch + 1,
                             (long long)b + 1, (long long)per_epoch, sc.loss, sc.grad_norm, lr,
                             model.clip.logit_scale.to(Device::CPU).item());
            if (cfg.progress) bar.update(b + 1, strfmt("loss %.4f", loss_n ? loss_sum / loss_n : 0.0));
            if (cfg.max_steps > 0 && global_step >= cfg.max_steps) { stop = true; break; }
        }
        if (cfg.progress) bar.finish(strfmt("loss %.4f", loss_n ? loss_sum / loss_n : 0.0));
        std::printf("epoch %d: mean loss %.4f over %lld steps\n", epoch + 1, loss_n ? loss_sum / loss_n : 0.0, (long long)loss_n);
        std::fprintf(log, "epoch %d: mean loss %.6f\n", epoch + 1, loss_n ? loss_sum / loss_n : 0.0);
        if (val) {
            model.eval();
            const Embeddings e = encode_clip_split(model, *val, B, false);
            const RetrievalMetrics m = retrieval_metrics(similarities(e), e.n_img, e.n_cap, (int)val->d.im_div);
            const std::string t = metrics_table(strfmt("epoch %d %s%s", epoch + 1, cfg.val_split.c_str(),
                                                       cfg.selection == "last" ? " (monitoring only)" : ""), m);
            std::printf("%s", t.c_str());
            std::fprintf(log, "%s", t.c_str());
            std::fflush(stdout);
            res.last_val = m;
            if (cfg.selection == "last" || m.rsum > best_rsum) {
                best_rsum = std::max(best_rsum, m.rsum);
                res.best_val = m;
                save_checkpoint(res.best_checkpoint, model, nullptr, meta(epoch + 1));
            }
        }
    }
    save_checkpoint(res.checkpoint, model, &opt, meta(cfg.num_epochs));
    if (!val) save_checkpoint(res.best_checkpoint, model, nullptr, meta(cfg.num_epochs));
    res.steps = global_step;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    std::printf("done: %lld steps in %s; %s\n", (long long)global_step, Progress::format_duration(res.seconds).c_str(),
                res.best_checkpoint.c_str());
    std::fclose(log);
    return res;
}

bool is_clip_checkpoint(const std::string& path) {
    if (!exists(path) || is_torch_checkpoint(path)) return false;
    const std::map<std::string, std::string> meta = safetensors_metadata(path);  // the header only
    const auto it = meta.find("config");
    if (it == meta.end()) return false;
    const Json j = Json::parse(it->second, path + " (config)");
    return j.has("model") && j["model"].as_string() == "clip";
}

std::vector<double> clip_split_sims(const EvalConfig& ec, EvalResult& r, int* per) {
    const SafeTensors st = safetensors_load(ec.checkpoint);
    const Json j = Json::parse(st.metadata.at("config"), ec.checkpoint + " (config)");
    ENSURE_HINT(st.metadata.count("clip_config"), "a checkpoint written by train --model clip",
                "%s: no clip_config in the metadata", ec.checkpoint.c_str());
    TrainConfig c;
    c.model = "clip";
    c.data_path = ec.data_path.empty() ? j["data_path"].as_string() : ec.data_path;
    c.dataset = ec.dataset.empty() ? j["dataset"].as_string() : ec.dataset;
    c.vsd = j["vsd"].as_string();
    c.cap_emb = j["cap_emb"].as_string();
    c.clip_path = j["clip_path"].as_string();
    if (const Json* v = j.find("image_cache_mb")) c.image_cache_mb = v->as_int();
    if (const Json* v = j.find("exif_orientation")) c.exif_orientation = v->as_int() != 0;
    const ClipConfig cc = ClipConfig::from_json(st.metadata.at("clip_config"), ec.checkpoint + " (clip_config)");
    Rng rng(0);
    const int64_t D = st.find("vsd.pca_mean") ? st.find("vsd.pca_mean")->size(0) : 0;
    ClipMatcher model(cc, rng, D);
    load_model_weights(model, st, ec.checkpoint);
    model.eval();
    model.to(select_device(ec.device, 0, ec.tf32, ec.precision));
    auto tok = load_clip_tokenizer(c.clip_path, "", cc);
    ClipSplit s = open_clip_split(c, ec.split, *tok, cc, true);
    std::printf("%s\n", s.d.summary().c_str());
    const Embeddings e = encode_clip_split(model, s, ec.batch_size, ec.progress);
    r.n_img = e.n_img;
    r.n_cap = e.n_cap;
    r.captions = s.d.caps;
    r.captions.resize(r.n_cap);
    r.image_files = s.files;
    r.what = strfmt("%s checkpoint %s", j.find("row") ? j["row"].as_string().c_str() : "CLIP", ec.checkpoint.c_str());
    if (const Json* v = j.find("protocol")) r.protocol = v->as_string();
    *per = (int)s.d.im_div;
    return similarities(e);
}

}  // namespace vsd
