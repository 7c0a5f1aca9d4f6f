// search.h — retrieval with a trained model: an index of a split's embeddings kept in the run
// folder, and the three queries a researcher asks of it.
//
//   <run>/index_<split>/images.npy    (N_img, E) float32, the image embeddings (VSD-fused when the
//                       captions.npy  (N_cap, E)          model fuses; as eval computes them)
//                       index.json    the checkpoint's size and modification time, the split, the
//                                     data folder, the counts and the images' dataset ids: a
//                                     different checkpoint (or split) rebuilds the index
//
// Queries: free text -> top-K images (through the model's own tokenizer and text encoder; a VSD
// model also needs the text's BGE embedding, computed with our BERT from --bge_path); an image
// of the split -> top-K captions; a caption of the split -> top-K images, with where its own
// image ranks. Scores are cosine similarities (the embeddings are unit-norm).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainer.h"

namespace vsd {

struct SearchOptions {
    std::string run = "runs/demo", checkpoint, data_path, split = "test", device = "cpu", bge_path;
    int64_t batch_size = 128;
    bool progress = true;
};

struct Hit {
    int64_t index = 0;  // image or caption index in the split
    double score = 0;
    bool correct = false;
};

struct SearchAnswer {
    std::string kind;         // "text", "image" or "caption"
    std::string query;        // the text, or the query item's description
    int64_t item = -1;        // image and caption queries: the query's index in the split
    std::vector<Hit> hits;
    int64_t correct_rank = -1;  // caption queries: 1-based rank of the caption's own image
};

class Searcher {
public:
    explicit Searcher(const SearchOptions& o);  // loads the model, opens or builds the index
    SearchAnswer text(const std::string& query, int64_t k);
    SearchAnswer image(int64_t i, int64_t k) const;
    // the split index of an image given by its dataset id (<split>_ids.txt), with one clear error if absent
    int64_t image_index_of(const std::string& id) const;
    SearchAnswer caption(int64_t c, int64_t k) const;
    // presentation: a readable table, or one JSON object
    std::string table(const SearchAnswer& a) const;
    std::string json(const SearchAnswer& a) const;
    bool index_was_built() const { return built_; }
    int64_t n_img() const { return n_img_; }
    int64_t n_cap() const { return n_cap_; }

private:
    SearchOptions opt_;
    LoadedModel lm_;
    std::unique_ptr<PrecompDataset> data_;
    std::unique_ptr<TextFront> front_;
    std::vector<float> img_, cap_;
    int64_t n_img_ = 0, n_cap_ = 0, E_ = 0, per_ = 5;
    std::vector<std::string> image_names_, image_ids_;
    bool built_ = false;
    std::shared_ptr<class Bert> bge_;  // loaded at the first free-text query of a VSD model, then kept
    std::shared_ptr<class BertTokenizer> bge_tok_;
};

}  // namespace vsd
