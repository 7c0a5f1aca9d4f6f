#include "dataset.h"

#include <dirent.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "json.h"
#include "tokenizer.h"  // utf8_valid

namespace vsd {

const char* vsd_source_name(VsdSource s) {
    switch (s) {
        case VsdSource::None: return "none";
        case VsdSource::Cpm: return "cpm";
        case VsdSource::Flor: return "flor";
    }
    return "?";
}

VsdSource parse_vsd_source(const std::string& s) {
    if (s == "none" || s.empty()) return VsdSource::None;
    if (s == "cpm" || s == "dagger" || s == "†") return VsdSource::Cpm;
    if (s == "flor" || s == "star" || s == "⋆") return VsdSource::Flor;
    FATAL("unknown VSD source '%s' (expected none, cpm (†, MiniCPM-V) or flor (⋆, Florence-2))", s.c_str());
}

std::string vsd_description_file(const std::string& split, VsdSource vsd) {
    if (vsd == VsdSource::Cpm)  // the release's names: train without "_1", test/testall with it
        return split == "train" ? "train_aux_cap_bge_cpm_full.npy" : split + "_aux_cap_bge_cpm_full_1.npy";
    if (vsd == VsdSource::Flor) return split + "_aux_cap_bge_flor_det.npy";
    return "";
}

std::string vsd_caption_file(const std::string& split, const std::string& cap_emb_name) {
    ENSURE(cap_emb_name == "cap_bge" || cap_emb_name == "cap_bge_cpm",
           "--cap_emb must be cap_bge (GPO+VSD's file) or cap_bge_cpm (HREM+VSD's), got '%s'", cap_emb_name.c_str());
    return split + "_" + cap_emb_name + ".npy";
}

static bool is_file(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_precomp_dir(const std::string& data_path, const std::string& dataset, const std::string& split) {
    const std::vector<std::string> candidates = {data_path + "/" + dataset + "/precomp", data_path + "/" + dataset + "_precomp",
                                                 data_path + "/precomp", data_path};
    for (const std::string& d : candidates)
        if (is_file(d + "/" + split + "_caps.txt")) return d;
    std::string tried;
    for (const std::string& d : candidates) tried += "\n  " + d + "/" + split + "_caps.txt";
    FATAL("dataset '%s', split '%s': no caption file found; tried:%s\nHINT: pass --data_path (make DATA=...) pointing at "
          "the folder that holds %s/precomp/ (see data/README.md), or run `make demo` for the demo dataset",
          dataset.c_str(), split.c_str(), tried.c_str(), dataset.c_str());
}

std::vector<std::string> read_captions(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), "check --data_path", "%s: cannot open", path.c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string all = ss.str();
    std::vector<std::string> caps;
    size_t start = 0;
    int64_t line = 1;
    while (start < all.size()) {
        size_t nl = all.find('\n', start);
        if (nl == std::string::npos) nl = all.size();
        std::string c = all.substr(start, nl - start);
        if (!c.empty() && c.back() == '\r') c.pop_back();  // CRLF files
        size_t bad = 0;
        ENSURE_HINT(utf8_valid(c, &bad), "re-encode the file as UTF-8 (iconv -f latin1 -t utf-8)",
                    "%s:%lld: not valid UTF-8 (byte 0x%02x at column %zu)", path.c_str(), (long long)line,
                    (unsigned char)c[bad], bad + 1);
        ENSURE_HINT(c.find_first_not_of(" \t") != std::string::npos, "every line must hold one caption",
                    "%s:%lld: empty caption line", path.c_str(), (long long)line);
        caps.push_back(c);
        start = nl + 1;
        line++;
    }
    return caps;
}

// The raw-image layout (CLIP): captions, ids and, for VSD, the same embedding files; no region features.
static void open_raw(const DatasetOptions& opt, PrecompDataset& d) {
    const std::string s = opt.split, caps_path = d.dir + "/" + s + "_caps.txt", ids_path = d.dir + "/" + s + "_ids.txt";
    d.caps = read_captions(caps_path);
    d.n_cap = (int64_t)d.caps.size();
    ENSURE_HINT(is_file(ids_path), "the raw-image models find each picture through <split>_ids.txt and id_mapping.json",
                "%s: missing (the image ids of split '%s')", ids_path.c_str(), s.c_str());
    std::vector<std::string> ids;
    {
        std::ifstream in(ids_path);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) ids.push_back(line);
    }
    const int64_t n = (int64_t)ids.size();
    bool runs_of_5 = n == d.n_cap && n % 5 == 0;
    for (int64_t i = 0; runs_of_5 && i < n; i++) runs_of_5 = ids[i] == ids[i - i % 5];
    if (d.n_cap == 5 * n) { d.n_img = n; d.im_div = 5; }
    else if (runs_of_5) { d.n_img = n / 5; d.im_div = 5; }
    else if (d.n_cap == n) { d.n_img = n; d.im_div = 1; }
    else
        FATAL("%s: %lld ids for the %lld captions of %s; expected one per image (a fifth of them) or one per caption",
              ids_path.c_str(), (long long)n, (long long)d.n_cap, caps_path.c_str());
    d.length = d.n_cap;
    if (s == "dev" && opt.truncate_dev && d.length > 5000) d.length = 5000;
    d.opened = {caps_path, ids_path};
}

PrecompDataset PrecompDataset::open(const DatasetOptions& opt) {
    PrecompDataset d;
    d.split = opt.split;
    d.dir = find_precomp_dir(opt.data_path, opt.dataset, opt.split);
    const std::string& s = opt.split;
    const std::string ims_path = d.dir + "/" + s + "_ims.npy", caps_path = d.dir + "/" + s + "_caps.txt";
    std::vector<std::string> problems;
    if (!opt.features) {
        open_raw(opt, d);
    } else {
        ENSURE_HINT(is_file(ims_path), "the region features come from SCAN's precomputed BUTD release (see data/README.md)",
                    "%s: missing (expected the region features of split '%s' beside %s)", ims_path.c_str(), s.c_str(),
                    caps_path.c_str());
        d.ims = npy_open(ims_path);
        d.caps = read_captions(caps_path);
        d.opened = {ims_path, caps_path};

        // Validate every file against the others; collect all mismatches, one line each.
        if (d.ims.shape.size() != 3) {
            problems.push_back(strfmt("%s: expected a 3-d array (images, regions, features), found shape %s", ims_path.c_str(),
                                      d.ims.shape_str().c_str()));
        } else {
            d.n_img = d.ims.shape[0];
            d.n_regions = d.ims.shape[1];
            d.feat_dim = d.ims.shape[2];
            if (d.n_img == 0 || d.n_regions == 0 || d.feat_dim == 0)
                problems.push_back(strfmt("%s: expected at least one image, region and feature, found shape %s", ims_path.c_str(),
                                          d.ims.shape_str().c_str()));
        }
        if (d.ims.type != NpyType::F4 && d.ims.type != NpyType::F2 && d.ims.type != NpyType::F8)
            problems.push_back(strfmt("%s: expected float features, found %s", ims_path.c_str(), npy_type_name(d.ims.type)));
        d.n_cap = (int64_t)d.caps.size();
        if (d.n_img > 0) {
            if (d.n_cap == 5 * d.n_img) d.im_div = 5;
            else if (d.n_cap == d.n_img) d.im_div = 1;
            else
                problems.push_back(strfmt("%s: expected %lld captions (5 per image) or %lld (1 per image) for the %lld images of "
                                          "%s, found %lld", caps_path.c_str(), (long long)(5 * d.n_img), (long long)d.n_img,
                                          (long long)d.n_img, ims_path.c_str(), (long long)d.n_cap));
        }
        d.length = d.n_cap;
        if (s == "dev" && opt.truncate_dev && d.length > 5000) d.length = 5000;
    }

    // VSD embeddings (caption-indexed): exactly the reference's file names (paper-notes §1.2)
    const bool want_caps = opt.caption_embeddings || opt.vsd != VsdSource::None;
    std::vector<std::pair<std::string, std::string>> wanted;  // (file, what)
    if (opt.vsd != VsdSource::None)
        wanted.push_back({vsd_description_file(s, opt.vsd), opt.vsd == VsdSource::Cpm
                                                                ? "the MiniCPM-V description embeddings (--vsd cpm)"
                                                                : "the Florence-2 description embeddings (--vsd flor)"});
    if (want_caps) wanted.push_back({vsd_caption_file(s, opt.cap_emb_name), "the caption embeddings"});
    bool any_present = false;
    for (auto& w : wanted) any_present |= is_file(d.dir + "/" + w.first);
    if (opt.vsd_optional && !any_present) {
        // e.g. dev: the release has no VSD files for it; the caller decides what that means
        for (auto& w : wanted) d.vsd_absent.push_back(d.dir + "/" + w.first);
        wanted.clear();
    }
    auto open_emb = [&](const std::string& name, const std::string& what, std::string* file) -> std::optional<NpyArray> {
        const std::string p = d.dir + "/" + name;
        if (!is_file(p)) {
            // a look-alike that another variant of the reference reads is named, never substituted
            std::vector<std::string> alts;
            if (name.find("_aux_cap_bge_cpm_full") != std::string::npos)
                alts = {s + "_aux_cap_bge_cpm_full.npy", s + "_aux_cap_bge_cpm_full_1.npy"};
            else if (name.find("_cap_bge") != std::string::npos && name.find("_aux_") == std::string::npos)
                alts = {s + "_cap_bge.npy", s + "_cap_bge_cpm.npy"};
            std::string found;
            for (const std::string& a : alts)
                if (a != name && is_file(d.dir + "/" + a)) found = a;
            if (!found.empty())
                problems.push_back(strfmt("%s: missing %s (the file the reference reads for split '%s'); found %s beside it, "
                                          "which the reference reads for another variant and is not substituted (rename or "
                                          "link it%s if its content is the same)", p.c_str(), what.c_str(), s.c_str(),
                                          found.c_str(), name.find("_cap_bge") != std::string::npos &&
                                          name.find("_aux_") == std::string::npos ? ", or pass --cap_emb" : ""));
            else
                problems.push_back(strfmt("%s: missing %s (expected %s)", d.dir.c_str(), what.c_str(), name.c_str()));
            return std::nullopt;
        }
        *file = p;
        NpyArray a = npy_open(p);
        d.opened.push_back(p);
        if (a.shape.size() != 2)
            problems.push_back(strfmt("%s: expected a 2-d array (captions, dim), found shape %s", p.c_str(), a.shape_str().c_str()));
        else if (a.shape[0] != d.n_cap)
            problems.push_back(strfmt("%s: expected %lld rows (one per caption of %s), found %lld", p.c_str(),
                                      (long long)d.n_cap, caps_path.c_str(), (long long)a.shape[0]));
        return a;
    };
    for (auto& w : wanted) {
        if (w.second == "the caption embeddings") d.cap_emb = open_emb(w.first, w.second, &d.cap_emb_file);
        else d.desc_emb = open_emb(w.first, w.second, &d.desc_file);
    }
    if (d.desc_emb && d.cap_emb && d.desc_emb->shape.size() == 2 && d.cap_emb->shape.size() == 2 &&
        d.desc_emb->shape[1] != d.cap_emb->shape[1])
        problems.push_back(strfmt("%s: width %lld differs from %s width %lld (both must be the BGE dimension)",
                                  d.desc_file.c_str(), (long long)d.desc_emb->shape[1], d.cap_emb_file.c_str(),
                                  (long long)d.cap_emb->shape[1]));
    if (!problems.empty()) {
        std::string msg = strfmt("dataset '%s' split '%s' in %s: %zu problem%s", opt.dataset.c_str(), s.c_str(), d.dir.c_str(),
                                 problems.size(), problems.size() > 1 ? "s" : "");
        for (const std::string& p : problems) msg += "\n  " + p;
        FATAL("%s\nHINT: tools/check_dataset prints every file's shape", msg.c_str());
    }
    if (opt.verbose)
        for (const std::string& f : d.opened) std::printf("[%s] opened %s\n", s.c_str(), f.c_str());
    return d;
}

std::string PrecompDataset::summary() const {
    const std::string what = feat_dim ? strfmt("%lld regions x %lld features", (long long)n_regions, (long long)feat_dim)
                                      : std::string("raw pictures");
    std::string s = strfmt("[%s] %s: %lld images (%s), %lld captions (%lld per image), %lld samples", split.c_str(),
                           dir.c_str(), (long long)n_img, what.c_str(), (long long)n_cap, (long long)im_div, (long long)length);
    if (desc_emb) s += strfmt("\n  descriptions: %s %s", desc_file.c_str(), desc_emb->shape_str().c_str());
    if (cap_emb) s += strfmt("\n  caption embeddings: %s %s", cap_emb_file.c_str(), cap_emb->shape_str().c_str());
    return s;
}

std::string find_prototype_file(const std::string& proto_path, const std::string& dataset, int64_t K) {
    const std::string prefix = dataset + "_minicpm_kmeans_centroids_";
    // K = 0: the release's file when it is there (f30k 896, coco 2560: the sizes the reference hard-codes)
    if (K == 0 && (dataset == "f30k" || dataset == "coco")) {
        std::string p = proto_path + "/" + prefix + (dataset == "f30k" ? "896" : "2560") + ".npy";
        if (FILE* f = std::fopen(p.c_str(), "rb")) { std::fclose(f); return p; }
    }
    if (K > 0) {
        std::string p = proto_path + "/" + prefix + std::to_string(K) + ".npy";
        if (FILE* f = std::fopen(p.c_str(), "rb")) { std::fclose(f); return p; }
        FATAL("%s: missing prototype centroids. HINT: `make prototypes DATASET=%s K=%lld` computes them, or copy the "
              "release's proto_data/ files there (or pass --proto_path)", p.c_str(), dataset.c_str(), (long long)K);
    }
    std::vector<std::string> found;
    if (DIR* d = opendir(proto_path.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            // <prefix><digits>.npy only: the release's proto_data/ also holds *_896_pca512.npy (for CLIP)
            if (n.rfind(prefix, 0) != 0 || n.size() <= prefix.size() + 4 || n.substr(n.size() - 4) != ".npy") continue;
            const std::string k = n.substr(prefix.size(), n.size() - prefix.size() - 4);
            if (k.find_first_not_of("0123456789") == std::string::npos) found.push_back(n);
        }
        closedir(d);
    }
    ENSURE_HINT(found.size() == 1, "pass --num_prototypes K, or make them with `make prototypes`",
                "%s: expected exactly one %s<K>.npy, found %zu", proto_path.c_str(), prefix.c_str(), found.size());
    return proto_path + "/" + found[0];
}

std::vector<std::string> image_ids(const PrecompDataset& d) {
    std::vector<std::string> out(d.n_img);
    std::ifstream in(d.dir + "/" + d.split + "_ids.txt");
    std::vector<std::string> ids;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ids.push_back(line.back() == '\r' ? line.substr(0, line.size() - 1) : line);
    // one line per image, or one per caption (then every im_div-th)
    const int64_t step = (int64_t)ids.size() == d.n_img ? 1 : (int64_t)ids.size() == d.n_cap ? d.im_div : 0;
    for (int64_t i = 0; step && i < d.n_img; i++) out[i] = ids[i * step];
    return out;
}

std::vector<std::string> image_files(const PrecompDataset& d) {
    std::vector<std::string> out(d.n_img);
    // the dataset folder: the precomp folder's parent (<dataset>/precomp) or its sibling name (<dataset>_precomp)
    std::string root = d.dir;
    if (root.size() > 8 && root.compare(root.size() - 8, 8, "/precomp") == 0) root.resize(root.size() - 8);
    else if (root.size() > 8 && root.compare(root.size() - 8, 8, "_precomp") == 0) root.resize(root.size() - 8);
    const std::vector<std::string> ids = image_ids(d);
    struct stat st;
    if (d.n_img == 0 || ids[0].empty() || stat((root + "/id_mapping.json").c_str(), &st) != 0) return out;
    const Json mapping = Json::parse_file(root + "/id_mapping.json");
    std::string dir;
    for (const char* sub : {"/images", "/flickr30k-images"})
        if (dir.empty() && stat((root + sub).c_str(), &st) == 0) dir = root + sub;
    if (dir.empty()) return out;
    for (int64_t i = 0; i < d.n_img; i++) {
        if (!mapping.has(ids[i])) continue;
        const std::string path = dir + "/" + mapping[ids[i]].as_string();
        if (stat(path.c_str(), &st) == 0) out[i] = path;
    }
    return out;
}

}  // namespace vsd
