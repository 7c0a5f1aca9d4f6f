// search.cpp — the search index and its queries (search.h).
#include "search.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "../../kernels/backend.h"
#include "../core/check.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "../nn/bert.h"

namespace vsd {

namespace {

// the checkpoint's identity as the index records it: size and modification time
std::string stamp_of(const std::string& path) {
    struct stat st;
    ENSURE(stat(path.c_str(), &st) == 0, "%s: cannot stat", path.c_str());
    return strfmt("%lld:%lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
}

bool file_ok(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

}  // namespace

Searcher::Searcher(const SearchOptions& o) : opt_(o) {
    EvalConfig ec;
    ec.checkpoint = o.checkpoint.empty() ? o.run + "/model_best.safetensors" : o.checkpoint;
    ENSURE_HINT(file_ok(ec.checkpoint), "train one first (make train), or pass --checkpoint",
                "%s: no model to search with (%s is absent)", o.run.c_str(), ec.checkpoint.c_str());
    ec.data_path = o.data_path;
    ec.device = o.device;
    ec.split = o.split;
    lm_ = load_checkpoint_model(ec);
    TrainConfig& c = lm_.cfg;
    data_ = std::make_unique<PrecompDataset>(open_split(c, o.split));
    front_ = make_text_front(c);
    lm_.model->to(select_device(o.device, 0, 0));
    per_ = (int)data_->im_div;
    // the images' dataset ids (kept in the index too) and file names, for the answers
    image_ids_ = image_ids(*data_);
    // the index: reused when it was made from this checkpoint, split and data; else rebuilt
    const std::string dir = o.run + "/index_" + o.split, meta_path = dir + "/index.json";
    const std::string stamp = stamp_of(ec.checkpoint);
    bool fresh = false;
    if (file_ok(meta_path) && file_ok(dir + "/images.npy") && file_ok(dir + "/captions.npy")) {
        const Json m = Json::parse_file(meta_path);
        fresh = m.has("checkpoint_stamp") && m["checkpoint_stamp"].as_string() == stamp && m["split"].as_string() == o.split &&
                m["precomp"].as_string() == data_->dir && m["checkpoint"].as_string() == ec.checkpoint;
    }
    if (fresh) {
        const Tensor I = npy_load(dir + "/images.npy"), C = npy_load(dir + "/captions.npy");
        n_img_ = I.size(0), n_cap_ = C.size(0), E_ = I.size(1);
        img_ = I.to_vector(), cap_ = C.to_vector();
        // the dataset changed under the same name: its counts no longer match the index
        fresh = n_cap_ == data_->length && n_img_ == (data_->length + data_->im_div - 1) / data_->im_div && C.size(1) == E_;
    }
    if (!fresh) {
        front_->prepare(data_->caps);
        const Embeddings e = encode_split(*lm_.model, *data_, *front_, o.batch_size, o.progress);
        n_img_ = e.n_img, n_cap_ = e.n_cap, E_ = e.E;
        img_ = e.img, cap_ = e.cap;
        mkdir(dir.c_str(), 0755);
        std::string ids_json;
        for (size_t i = 0; i < image_ids_.size(); i++) ids_json += (i ? ", " : "") + json_quote(image_ids_[i]);
        npy_save_raw(dir + "/images.npy", "<f4", {n_img_, E_}, img_.data(), img_.size() * 4);
        npy_save_raw(dir + "/captions.npy", "<f4", {n_cap_, E_}, cap_.data(), cap_.size() * 4);
        write_file_atomic(meta_path, "{\"checkpoint\": " + json_quote(ec.checkpoint) + ", \"checkpoint_stamp\": " +
                                         json_quote(stamp) + ", \"split\": " + json_quote(o.split) + ", \"precomp\": " +
                                         json_quote(data_->dir) + strfmt(", \"images\": %lld, \"captions\": %lld, \"dim\": %lld",
                                                                         (long long)n_img_, (long long)n_cap_, (long long)E_) +
                                         ", \"image_ids\": [" + ids_json + "]}\n");
        built_ = true;
    }
    for (const std::string& f : image_files(*data_)) image_names_.push_back(f.substr(f.rfind('/') + 1));
}

// q . row for every row of an (n, E) table, in double (as eval's similarities)
static std::vector<double> dots(const std::vector<float>& rows, int64_t n, int64_t E, const float* q) {
    std::vector<double> s(n);
    for (int64_t r = 0; r < n; r++) {
        double acc = 0;
        for (int64_t k = 0; k < E; k++) acc += (double)rows[r * E + k] * q[k];
        s[r] = acc;
    }
    return s;
}

SearchAnswer Searcher::text(const std::string& query, int64_t k) {
    const size_t first = query.find_first_not_of(" \t\r\n");
    ENSURE_HINT(first != std::string::npos, "type a sentence, e.g. 'a man riding a bike'", "search: the query is empty");
    NoGrad ng;
    VSEModel& model = *lm_.model;
    model.eval();
    // the model's own tokenizer and text encoder, as for the dataset's captions
    front_->prepare({query});
    Rng rng(0);
    const std::vector<int64_t> ids = front_->ids(0, false, rng);
    const Device dev = model.parameters()[0].device();
    ModelInput in;
    in.tokens = Tensor::from_i64({1, (int64_t)ids.size()}, ids).to(dev);
    in.lengths = Tensor::from_i64({1}, {(int64_t)ids.size()}).to(dev);
    if (data_->cap_emb) {  // VSD fuses the caption's BGE embedding into the text side (paper-notes §2.6)
        ENSURE_HINT(!opt_.bge_path.empty(),
                    "pass --bge_path <folder of bge-large-en-v1.5: config.json, vocab.txt, model.safetensors>; "
                    "tools/embed --model <that folder> --cls computes the same vectors for a file of sentences",
                    "search: this model (%s) fuses each caption's BGE embedding, so a free-text query needs one too",
                    lm_.cfg.row_name().c_str());
        if (!bge_) {  // loaded once, kept for the next queries (--interactive)
            bge_tok_ = std::make_shared<BertTokenizer>(opt_.bge_path + "/vocab.txt");
            bge_ = load_bert_folder(opt_.bge_path);
            bge_->to(dev);
        }
        Bert& bge = *bge_;
        const BertTokenizer& tok = *bge_tok_;
        const std::vector<int> t = tok.encode(query);
        std::vector<int64_t> t64(t.begin(), t.end());
        Tensor tt = Tensor::from_i64({1, (int64_t)t64.size()}, t64).to(dev), len = Tensor::from_i64({1}, {(int64_t)t64.size()}).to(dev);
        Tensor e = sentence_embedding(bge.forward(tt, len), len, true);  // BGE pools with [CLS]
        ENSURE_HINT(e.size(1) == data_->cap_emb->row_numel(), "use the BGE model the release's embeddings came from",
                    "%s: embeddings of size %lld, but the dataset's caption embeddings have %lld", opt_.bge_path.c_str(),
                    (long long)e.size(1), (long long)data_->cap_emb->row_numel());
        in.cap_emb = e.to(dev);
    }
    const Tensor T = model.encode_text(in).to(Device::CPU);
    const std::vector<double> s = dots(img_, n_img_, E_, T.data());
    SearchAnswer a;
    a.kind = "text";
    a.query = query;
    for (int64_t i : top_k(s.data(), 1, n_img_, k)) a.hits.push_back({i, s[i], false});
    return a;
}

int64_t Searcher::image_index_of(const std::string& id) const {
    for (int64_t i = 0; i < n_img_; i++)
        if (image_ids_[i] == id) return i;
    FATAL("search: no image with id %s in the %s split (%s_ids.txt). HINT: --image N takes the split's 0-based index "
          "instead", id.c_str(), opt_.split.c_str(), opt_.split.c_str());
}

SearchAnswer Searcher::image(int64_t i, int64_t k) const {
    ENSURE_HINT(i >= 0 && i < n_img_, strfmt("images are numbered 0 .. %lld in the %s split", (long long)n_img_ - 1,
                                             opt_.split.c_str()).c_str(),
                "search: no image %lld in the %s split", (long long)i, opt_.split.c_str());
    const std::vector<double> s = dots(cap_, n_cap_, E_, &img_[i * E_]);
    SearchAnswer a;
    a.kind = "image";
    a.query = strfmt("image %lld", (long long)i);
    a.item = i;
    for (int64_t c : top_k(s.data(), 1, n_cap_, k)) a.hits.push_back({c, s[c], c / per_ == i});
    return a;
}

SearchAnswer Searcher::caption(int64_t c, int64_t k) const {
    ENSURE_HINT(c >= 0 && c < n_cap_, strfmt("captions are numbered 0 .. %lld in the %s split", (long long)n_cap_ - 1,
                                             opt_.split.c_str()).c_str(),
                "search: no caption %lld in the %s split", (long long)c, opt_.split.c_str());
    const std::vector<double> s = dots(img_, n_img_, E_, &cap_[c * E_]);
    SearchAnswer a;
    a.kind = "caption";
    a.query = data_->caps[c];
    a.item = c;
    const int64_t own = c / per_;
    for (int64_t i : top_k(s.data(), 1, n_img_, k)) a.hits.push_back({i, s[i], i == own});
    a.correct_rank = 1;
    for (int64_t i = 0; i < n_img_; i++) a.correct_rank += s[i] > s[own] || (s[i] == s[own] && i > own);
    return a;
}

std::string Searcher::table(const SearchAnswer& a) const {
    std::string o;
    if (a.kind == "image") {
        const std::string& name = image_names_.empty() ? "" : image_names_[a.item];
        o = a.query + (name.empty() ? "" : " (" + name + ")") + ": top " +
            std::to_string(a.hits.size()) + " captions (* = its own)\n";
        o += strfmt("%4s  %7s  %6s  %s\n", "rank", "caption", "score", "text");
        for (size_t r = 0; r < a.hits.size(); r++)
            o += strfmt("%4zu  %7lld  %6.3f  %s%s\n", r + 1, (long long)a.hits[r].index, a.hits[r].score,
                        a.hits[r].correct ? "* " : "", data_->caps[a.hits[r].index].c_str());
        return o;
    }
    o = "\"" + a.query + "\": top " + std::to_string(a.hits.size()) + " images" +
        (a.kind == "caption" ? strfmt(" (its own image ranks %lld; * marks it)", (long long)a.correct_rank) : "") + "\n";
    o += strfmt("%4s  %5s  %-10s  %-22s  %6s  %s\n", "rank", "image", "id", "file", "score", "a caption of it");
    for (size_t r = 0; r < a.hits.size(); r++) {
        const int64_t i = a.hits[r].index;
        o += strfmt("%4zu  %5lld  %-10s  %-22s  %6.3f  %s%s\n", r + 1, (long long)i, image_ids_[i].c_str(),
                    i < (int64_t)image_names_.size() && !image_names_[i].empty() ? image_names_[i].c_str() : "-", a.hits[r].score,
                    a.hits[r].correct ? "* " : "", data_->caps[i * per_].c_str());
    }
    return o;
}

std::string Searcher::json(const SearchAnswer& a) const {
    std::string o = "{\"kind\": " + json_quote(a.kind) + ", \"query\": " + json_quote(a.query);
    if (a.item >= 0) o += strfmt(", \"item\": %lld", (long long)a.item);
    if (a.correct_rank > 0) o += strfmt(", \"correct_rank\": %lld", (long long)a.correct_rank);
    o += ", \"hits\": [";
    for (size_t r = 0; r < a.hits.size(); r++) {
        const Hit& h = a.hits[r];
        o += r ? ", " : "";
        o += strfmt("{\"rank\": %zu, \"score\": %.6f, \"correct\": %s", r + 1, h.score, h.correct ? "true" : "false");
        if (a.kind == "image") {
            o += strfmt(", \"caption\": %lld, \"text\": ", (long long)h.index) + json_quote(data_->caps[h.index]) + "}";
        } else {
            o += strfmt(", \"image\": %lld, \"id\": ", (long long)h.index) + json_quote(image_ids_[h.index]) + ", \"file\": " +
                 json_quote(h.index < (int64_t)image_names_.size() ? image_names_[h.index] : "") + ", \"captions\": [";
            for (int64_t c = h.index * per_; c < (h.index + 1) * per_; c++)
                o += (c > h.index * per_ ? ", " : "") + json_quote(data_->caps[c]);
            o += "]}";
        }
    }
    return o + "]}";
}

}  // namespace vsd
