// search — `make search QUERY='a man riding a bike'`: what a trained model retrieves.
//   search --logger_name runs/demo --query "a dog on the beach"     text -> top-K images
//   search --image 12                                                 image 12 of the split -> top-K captions
//   search --caption 40                                               caption 40 -> top-K images, and its image's rank
//   search --interactive                                              one query a line on stdin, the model loaded once
//                                                                     (":image N", ":id ID", ":caption N" as above)
// The first run encodes the split into <run>/index_<split>/ (with progress); later runs reuse it
// until the checkpoint changes. --json prints one JSON object per answer.
//
// Your own pictures (a CLIP model; clip_index.h):
//   search --images photos/ --clip models/CLIP --build_only 1       encode the folder into an index
//   search --images photos/ --clip models/CLIP --query "a red car"   the top-K pictures for a text
#include <iostream>

#include "../core/check.h"
#include "../data/json.h"
#include "clip_index.h"
#include "search.h"

using namespace vsd;

static int body(int argc, char** argv) {
    SearchOptions o;
    std::string query;
    int64_t image = -1, caption = -1, k = 5;
    bool json = false, interactive = false;
    Flags f("search", "retrieve with a trained model: text or an image/caption of the split as the query");
    f.add("logger_name", &o.run, "run folder (its model_best.safetensors; the index is kept in it)");
    f.add("checkpoint", &o.checkpoint, "checkpoint (default <logger_name>/model_best.safetensors)");
    f.add("data_path", &o.data_path, "dataset folder (default: the one the model was trained on)");
    f.add("split", &o.split, "the split to search: test, dev or testall");
    f.add("query", &query, "free text: the top-K images for it");
    f.add("image", &image, "an image of the split (0-based): its top-K captions");
    std::string image_id;
    f.add("image_id", &image_id, "an image by its dataset id (<split>_ids.txt, as the tables show): its top-K captions");
    f.add("caption", &caption, "a caption of the split (0-based): its top-K images, and where its own image ranks");
    f.add("k", &k, "how many results");
    f.add("json", &json, "print one JSON object per answer instead of a table");
    f.add("interactive", &interactive, "read queries from stdin, one a line (text, ':image N', ':id ID' or ':caption N'); the model stays loaded");
    f.add("bge_path", &o.bge_path, "VSD models: a BGE folder (config.json, vocab.txt, weights) to embed free-text queries");
    f.add("device", &o.device, "cpu, cuda (the GPU), or emulator");
    f.add("batch_size", &o.batch_size, "batch size for building the index");
    ClipIndexOptions ci;
    bool build_only = false;
    f.add("images", &ci.images, "your own pictures: a folder of JPEGs/PNGs to index with a CLIP model (--clip) and search by text");
    f.add("clip", &ci.clip, "with --images: the CLIP model: an OpenCLIP folder (open_clip_config.json, its weights, merges.txt), or a run folder of train --model clip");
    f.add("index", &ci.index_dir, "with --images: where the index lives (default runs/clip_index_<folder name>)");
    f.add("bpe", &ci.bpe, "with --images: CLIP's BPE merges when the CLIP folder has none");
    f.add("skip_bad", &ci.skip_bad, "with --images: leave pictures that do not decode out of the index (listed) instead of stopping");
    f.add("rebuild", &ci.rebuild, "with --images: build the index even when it is up to date");
    f.add("build_only", &build_only, "with --images: build (or check) the index, answer nothing");
    f.add("exif_orientation", &ci.exif_orientation, "with --images: turn each JPEG as its EXIF Orientation tag says (0: as stored, as PIL's Image.open and OpenCLIP)");
    if (!f.parse(argc, argv)) return 0;
    if (!ci.images.empty()) {  // a CLIP index of a folder
        ENSURE_HINT(k >= 1, "see --help", "--k must be at least 1, got %lld", (long long)k);
        ENSURE_HINT(build_only || interactive || !query.empty(), "e.g. --query 'a dog on the beach', or --build_only 1",
                    "with --images, search needs --query, --interactive or --build_only 1");
        ci.device = o.device;
        ci.batch_size = o.batch_size;
        ClipIndex idx(ci);
        for (const std::string& s : idx.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
        std::fprintf(stderr, "%s %s: %zu pictures of %s, %lld-d\n", idx.built() ? "index written to" : "index up to date in",
                     idx.dir().c_str(), idx.files().size(), ci.images.c_str(), (long long)idx.dim());
        auto answer = [&](const std::string& q) {
            const std::vector<ClipHit> hits = idx.search(q, k);
            if (json) {
                std::string s = "{\"query\": " + json_quote(q) + ", \"hits\": [";
                for (size_t i = 0; i < hits.size(); i++)
                    s += strfmt("%s{\"file\": %s, \"score\": %.6f}", i ? ", " : "", json_quote(hits[i].file).c_str(), hits[i].score);
                std::printf("%s]}\n", s.c_str());
            } else {
                std::printf("query: %s\n rank   score  file\n", q.c_str());
                for (size_t i = 0; i < hits.size(); i++) std::printf("%5zu  %6.3f  %s\n", i + 1, hits[i].score, hits[i].file.c_str());
            }
            std::fflush(stdout);
        };
        if (!query.empty()) answer(query);
        if (interactive)
            for (std::string line; std::getline(std::cin, line);) answer(line);
        return 0;
    }
    ENSURE_HINT(k >= 1, "see --help", "--k must be at least 1, got %lld", (long long)k);
    ENSURE_HINT(interactive || !query.empty() || image >= 0 || caption >= 0 || !image_id.empty(), "e.g. --query 'a man riding a bike'",
                "search needs a query: --query, --image, --caption or --interactive");
    Searcher s(o);
    if (s.index_was_built()) std::fprintf(stderr, "index of %lld images and %lld captions written to %s/index_%s\n",
                                          (long long)s.n_img(), (long long)s.n_cap(), o.run.c_str(), o.split.c_str());
    auto answer = [&](const SearchAnswer& a) {
        std::printf("%s\n", json ? s.json(a).c_str() : s.table(a).c_str());
        std::fflush(stdout);
    };
    if (!query.empty()) answer(s.text(query, k));
    if (image >= 0) answer(s.image(image, k));
    if (!image_id.empty()) answer(s.image(s.image_index_of(image_id), k));
    if (caption >= 0) answer(s.caption(caption, k));
    if (interactive) {
        for (std::string line; std::getline(std::cin, line);) {
            try {  // a bad query is reported and the session goes on
                if (line.rfind(":image ", 0) == 0) answer(s.image(std::stoll(line.substr(7)), k));
                else if (line.rfind(":id ", 0) == 0) answer(s.image(s.image_index_of(line.substr(4)), k));
                else if (line.rfind(":caption ", 0) == 0) answer(s.caption(std::stoll(line.substr(9)), k));
                else answer(s.text(line, k));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "error: %s\n", e.what());
            }
        }
    }
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
