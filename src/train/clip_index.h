// clip_index.h — your own pictures, searchable: a folder of JPEGs and PNGs encoded by a CLIP model
// into an index, and free-text queries answered over it (`make index IMAGES=folder/`, then
// `make search IMAGES=folder/ QUERY='a dog on the beach'`).
//
//   <index>/embeddings.npy   (N, E) float32, unit rows: the images' CLIP embeddings
//           files.txt        the N image paths, relative to the folder, in index order (sorted)
//           index.json       the folder, the model's weights file, the count, the embedding size and
//                            a fingerprint of the folder listing (names, sizes, modification times)
//                            and of the weights file: when either changes, the index is rebuilt
// Every file is written to a temporary name and renamed, so an interrupted build leaves no index
// that looks whole. Images are decoded on several threads and encoded in batches, with a
// progress line; a file that does not decode stops the build with its name and byte offset
// (--skip_bad 1: it is left out, and listed).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../data/clip_tokenizer.h"
#include "../data/image.h"
#include "../nn/clip.h"

namespace vsd {

struct ClipIndexOptions {
    std::string images;     // the folder (searched recursively for .jpg, .jpeg, .png)
    std::string clip;       // an OpenCLIP folder (open_clip_config.json, weights, merges.txt or --bpe), or a
                            // run folder / checkpoint of train --model clip (a CLIP+VSD model's towers alone:
                            // a folder of pictures has no descriptions to fuse)
    std::string index_dir;  // default: runs/clip_index_<folder name>
    std::string bpe;        // the BPE merges when the CLIP folder has none (default data/models/clip/...)
    std::string device = "cpu";
    int64_t batch_size = 64;
    int threads = 0;        // decoding threads (0: all)
    bool progress = true;
    bool skip_bad = false;
    bool rebuild = false;   // build even when the index is up to date
    bool exif_orientation = true;  // turn JPEGs as their EXIF Orientation says (false: as stored, as PIL/OpenCLIP)
};

struct ClipHit {
    std::string file;
    double score = 0;
};

class ClipIndex {
public:
    explicit ClipIndex(const ClipIndexOptions& o);  // loads the model; opens the index or builds it
    std::vector<ClipHit> search(const std::string& query, int64_t k);
    std::vector<float> text_embedding(const std::string& query);  // (E), unit norm
    bool built() const { return built_; }
    const std::string& dir() const { return dir_; }
    const std::vector<std::string>& files() const { return files_; }
    const std::vector<float>& embeddings() const { return emb_; }
    int64_t dim() const { return E_; }
    std::vector<std::string> skipped;            // --skip_bad: "file: error"
    double decode_seconds = 0, encode_seconds = 0;  // of the build

private:
    ClipIndexOptions opt_;
    std::unique_ptr<Clip> model_;
    std::unique_ptr<ClipTokenizer> tok_;
    std::string dir_, weights_;
    std::vector<std::string> files_;
    std::vector<float> emb_;
    int64_t E_ = 0;
    bool built_ = false;
    void build(const std::vector<std::string>& files, const std::string& fingerprint);
};

// The image files under a folder (recursively; .jpg .jpeg .png in any case), relative paths, sorted.
std::vector<std::string> list_images(const std::string& folder);
// The default tokenizer file for a CLIP folder: its merges.txt or bpe_simple_vocab_16e6.txt.gz, else `fallback`.
std::string clip_bpe_for(const std::string& clip_dir, const std::string& fallback);
// The tokenizer of a CLIP model: clip_dir's merges, else `bpe` (else the fetched OpenCLIP merges), checked
// against the model's vocabulary size.
std::unique_ptr<ClipTokenizer> load_clip_tokenizer(const std::string& clip_dir, const std::string& bpe, const ClipConfig& cc);
// OpenCLIP's preprocessing at the model's image size, with its configured mean and std.
ClipPreprocess clip_preprocessing(const ClipConfig& cc);

}  // namespace vsd
