// clip_index.cpp — a folder of pictures as a CLIP index, and text queries over it (clip_index.h).
#include "clip_index.h"

#include <dirent.h>
#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "../../kernels/backend.h"
#include "../core/check.h"
#include "../core/progress.h"
#include "../core/tape.h"
#include "../data/checksum.h"
#include "../data/image.h"
#include "../data/json.h"
#include "../data/npy.h"

namespace vsd {

namespace {

bool is_file(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
    DIR* d = opendir((root + "/" + rel).c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name.empty() || name[0] == '.') continue;  // ., .., hidden files and folders
        const std::string r = rel.empty() ? name : rel + "/" + name;
        struct stat st;
        if (stat((root + "/" + r).c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) { walk(root, r, out); continue; }
        std::string ext = name.substr(name.find_last_of('.') == std::string::npos ? name.size() : name.find_last_of('.'));
        for (char& c : ext) c = (char)std::tolower((unsigned char)c);
        if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") out.push_back(r);
    }
    closedir(d);
}

// names, sizes and modification times of the files, and of the weights file: a change rebuilds
std::string fingerprint(const std::string& folder, const std::vector<std::string>& files, const std::string& weights) {
    std::string s;
    for (const std::string& f : files) {
        struct stat st;
        stat((folder + "/" + f).c_str(), &st);
        s += strfmt("%s\t%lld\t%lld\n", f.c_str(), (long long)st.st_size, (long long)st.st_mtime);
    }
    struct stat st;
    stat(weights.c_str(), &st);
    s += strfmt("%s\t%lld\t%lld\n", weights.c_str(), (long long)st.st_size, (long long)st.st_mtime);
    return strfmt("%08x-%zu", crc32(s.data(), s.size()), files.size());
}

std::string base_name(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const size_t s = p.find_last_of('/');
    return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

std::vector<std::string> list_images(const std::string& folder) {
    struct stat st;
    ENSURE_HINT(stat(folder.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "give the folder that holds the pictures",
                "%s: not a folder", folder.c_str());
    std::vector<std::string> out;
    walk(folder, "", out);
    std::sort(out.begin(), out.end());
    return out;
}

std::string clip_bpe_for(const std::string& clip_dir, const std::string& fallback) {
    for (const char* f : {"merges.txt", "bpe_simple_vocab_16e6.txt.gz"})
        if (is_file(clip_dir + "/" + f)) return clip_dir + "/" + f;
    return fallback;
}

std::unique_ptr<ClipTokenizer> load_clip_tokenizer(const std::string& clip_dir, const std::string& bpe, const ClipConfig& cc) {
    const std::string file = clip_bpe_for(clip_dir, bpe.empty() ? "data/models/clip/bpe_simple_vocab_16e6.txt.gz" : bpe);
    auto tok = std::make_unique<ClipTokenizer>(file);
    ENSURE_HINT(tok->vocab_size() == cc.vocab_size, "the merges must be the model's own (its CLIP folder's merges.txt)",
                "%s: %d tokens, but the model (%s) has a vocabulary of %lld", file.c_str(), tok->vocab_size(),
                clip_dir.c_str(), (long long)cc.vocab_size);
    return tok;
}

ClipPreprocess clip_preprocessing(const ClipConfig& cc) {
    ClipPreprocess p;
    p.size = (int)cc.image_size;
    for (int c = 0; c < 3; c++) { p.mean[c] = cc.mean[c]; p.std[c] = cc.std[c]; }
    return p;
}

ClipIndex::ClipIndex(const ClipIndexOptions& o) : opt_(o) {
    ENSURE_HINT(!o.images.empty() && !o.clip.empty(), "e.g. make index IMAGES=photos/ CLIP=models/CLIP",
                "a CLIP index needs --images (the folder) and --clip (the CLIP model folder)");
    ENSURE_HINT(o.batch_size >= 1, "see --help", "--batch_size must be at least 1, got %lld", (long long)o.batch_size);
    // an OpenCLIP folder, or a model we trained (train --model clip): its run folder or checkpoint
    std::string tok_dir = o.clip;
    const std::string ckpt = is_file(o.clip) ? o.clip : o.clip + "/model_best.safetensors";
    if (is_file(ckpt) && !is_file(o.clip + "/open_clip_config.json")) {
        const SafeTensors st = safetensors_load(ckpt);
        ENSURE_HINT(st.metadata.count("clip_config") && st.metadata.count("config"),
                    "--clip takes an OpenCLIP folder, or the run folder of train --model clip",
                    "%s: not a CLIP checkpoint (no clip_config in its metadata)", ckpt.c_str());
        Rng rng(0);
        model_ = std::make_unique<Clip>(ClipConfig::from_json(st.metadata.at("clip_config"), ckpt + " (clip_config)"), rng);
        // a CLIP+VSD model's towers: your own pictures have no descriptions to fuse
        load_named_tensors(*model_, st, ckpt, {"clip."},
                           [](const std::string& n) { return n.rfind("vsd.", 0) == 0 || n.rfind("optimizer.", 0) == 0; },
                           "CLIP config", "the checkpoint's own clip_config describes it");
        model_->eval();
        tok_dir = Json::parse(st.metadata.at("config"), ckpt + " (config)")["clip_path"].as_string();
        weights_ = ckpt;
    } else {
        model_ = load_clip_folder(o.clip);
        weights_ = clip_weights_file(o.clip);
    }
    model_->to(select_device(o.device));
    tok_ = load_clip_tokenizer(tok_dir, o.bpe, model_->cfg);
    E_ = model_->cfg.embed_dim;
    dir_ = o.index_dir.empty() ? "runs/clip_index_" + base_name(o.images) : o.index_dir;

    const std::vector<std::string> files = list_images(o.images);
    ENSURE_HINT(!files.empty(), "the folder (and its sub-folders) should hold .jpg, .jpeg or .png files",
                "%s: no pictures", o.images.c_str());
    const std::string fp = fingerprint(o.images, files, weights_) + (o.exif_orientation ? "" : "-stored");
    // an index that matches the folder and the weights is read back; anything else is rebuilt
    if (!o.rebuild && is_file(dir_ + "/index.json") && is_file(dir_ + "/embeddings.npy") && is_file(dir_ + "/files.txt")) {
        const Json j = Json::parse_file(dir_ + "/index.json");
        if (j.has("fingerprint") && j["fingerprint"].as_string() == fp && j["dim"].as_int() == E_) {
            const Tensor e = npy_load(dir_ + "/embeddings.npy");
            std::ifstream in(dir_ + "/files.txt");
            for (std::string line; std::getline(in, line);) files_.push_back(line);
            ENSURE_HINT(e.ndim() == 2 && e.size(0) == (int64_t)files_.size() && e.size(1) == E_, "delete the index folder",
                        "%s: embeddings.npy is %s for %zu files of dimension %lld", dir_.c_str(), e.shape_str().c_str(),
                        files_.size(), (long long)E_);
            emb_ = e.to_vector();
            return;
        }
    }
    build(files, fp);
}

void ClipIndex::build(const std::vector<std::string>& files, const std::string& fp) {
    const int64_t N = (int64_t)files.size(), S = model_->cfg.image_size;
    const ClipPreprocess pre = clip_preprocessing(model_->cfg);
    const Device dev = model_->visual.proj.device();
    NoGrad ng;
    Progress bar("index " + std::to_string(N) + " images", N);
    std::vector<float> emb;
    std::vector<std::string> kept;
    using clock = std::chrono::steady_clock;
    for (int64_t start = 0; start < N; start += opt_.batch_size) {
        const int64_t n = std::min(opt_.batch_size, N - start);
        // decode and preprocess on several threads; a bad file stops the build (or, with
        // --skip_bad, is left out and listed)
        const auto t0 = clock::now();
        std::vector<std::vector<float>> px(n);
        std::vector<std::string> err(n);
        const int threads = opt_.threads > 0 ? opt_.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic) num_threads(threads)
        for (int64_t i = 0; i < n; i++) {
            try {
                px[i].resize(3 * S * S);
                ImageOptions read;
                read.exif_orientation = opt_.exif_orientation;
                clip_preprocess(to_rgb(image_read(opt_.images + "/" + files[start + i], read)), px[i].data(), pre);
            } catch (const std::exception& e) {
                err[i] = e.what();
            }
        }
        std::vector<float> batch;
        for (int64_t i = 0; i < n; i++) {
            if (!err[i].empty()) {
                ENSURE_HINT(opt_.skip_bad, "--skip_bad 1 leaves such files out of the index", "%s", err[i].c_str());
                skipped.push_back(files[start + i] + ": " + err[i]);
                continue;
            }
            batch.insert(batch.end(), px[i].begin(), px[i].end());
            kept.push_back(files[start + i]);
        }
        const auto t1 = clock::now();
        const int64_t b = (int64_t)batch.size() / (3 * S * S);
        if (b > 0) {
            const Tensor f = unit_rows(model_->encode_image(Tensor::from({b, 3, S, S}, batch).to(dev))).to(Device::CPU);
            const std::vector<float> v = f.to_vector();
            emb.insert(emb.end(), v.begin(), v.end());
        }
        const auto t2 = clock::now();
        decode_seconds += std::chrono::duration<double>(t1 - t0).count();
        encode_seconds += std::chrono::duration<double>(t2 - t1).count();
        if (opt_.progress) bar.update(start + n);
    }
    if (opt_.progress) bar.finish(strfmt("decode %.0f images/s, encode %.0f images/s", N / std::max(decode_seconds, 1e-9),
                                         N / std::max(encode_seconds, 1e-9)));
    ENSURE_HINT(!kept.empty(), "every picture failed to decode", "%s: no picture could be read", opt_.images.c_str());
    files_ = kept;
    emb_ = emb;
    // write: embeddings and the file list first, index.json (what says the index is whole) last
    make_dirs(dir_);
    npy_save(dir_ + "/embeddings.npy", Tensor::from({(int64_t)files_.size(), E_}, emb_));
    std::string list;
    for (const std::string& f : files_) list += f + "\n";
    write_file_atomic(dir_ + "/files.txt", list);
    write_file_atomic(dir_ + "/index.json",
                      strfmt("{\"folder\": %s, \"clip\": %s, \"weights\": %s, \"images\": %zu, \"skipped\": %zu, \"dim\": %lld, "
                             "\"fingerprint\": %s}\n",
                             json_quote(opt_.images).c_str(), json_quote(opt_.clip).c_str(), json_quote(weights_).c_str(), files_.size(),
                             skipped.size(), (long long)E_, json_quote(fp).c_str()));
    built_ = true;
}

std::vector<float> ClipIndex::text_embedding(const std::string& query) {
    std::vector<int> ids = tok_->encode(query, (int)model_->cfg.context_length);
    while (ids.size() > 1 && ids.back() == 0) ids.pop_back();  // the causal mask makes the padding irrelevant
    NoGrad ng;
    const Tensor t = Tensor::from_i64({1, (int64_t)ids.size()}, std::vector<int64_t>(ids.begin(), ids.end()));
    return unit_rows(model_->encode_text(t)).to(Device::CPU).to_vector();
}

std::vector<ClipHit> ClipIndex::search(const std::string& query, int64_t k) {
    const std::vector<float> t = text_embedding(query);
    std::vector<ClipHit> hits(files_.size());
    for (size_t i = 0; i < files_.size(); i++) {
        double s = 0;
        for (int64_t e = 0; e < E_; e++) s += (double)emb_[i * E_ + e] * t[e];
        hits[i] = {files_[i], s};
    }
    std::stable_sort(hits.begin(), hits.end(), [](const ClipHit& a, const ClipHit& b) { return a.score > b.score; });
    hits.resize(std::min<size_t>(hits.size(), (size_t)std::max<int64_t>(k, 0)));
    return hits;
}

}  // namespace vsd
