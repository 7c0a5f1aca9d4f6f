// batch.h — turning dataset samples into training/evaluation batches (paper-notes §1.5-1.7).
//
// A sample is a caption index c (image c / im_div). Per epoch the train loader shuffles the
// sample order from (seed, epoch), drops the last incomplete batch, and for each sample
//   * drops regions: region r is kept iff u > 0.2, u ~ U[0,1)  (order kept; ~28.8 of 36 remain)
//   * masks tokens: BERT per word / BiGRU per token, with probability 0.2:
//       half of those become [MASK]/<mask>, a tenth become a uniformly random id, the rest are deleted
// then sorts the batch by token length (descending) and zero-pads images and tokens.
// Every random draw of a sample comes from an Rng seeded by (seed, epoch, caption index), so the
// batches do not depend on threads or timing, and a resumed run sees exactly the same data.
// The evaluation loader does neither augmentation nor shuffling.
#pragma once
#include <future>
#include <memory>
#include <vector>

#include "../core/tensor.h"
#include "dataset.h"
#include "tokenizer.h"

namespace vsd {

struct Batch {
    int64_t size = 0;
    Tensor images;       // (B, R_max, F) float32, zero-padded
    Tensor img_lengths;  // (B,) int64: regions kept
    Tensor tokens;       // (B, L_max) int64, padded with 0
    Tensor lengths;      // (B,) int64: tokens (BERT: including [CLS] and [SEP])
    Tensor desc_emb;     // (B, D) description embeddings, or undefined
    Tensor cap_emb;      // (B, D) caption embeddings, or undefined
    std::vector<int64_t> cap_ids;  // dataset caption index of each row
    std::vector<int64_t> img_ids;  // image index of each row (the losses mask repeated images)
};

// One sample of a batch: the caption, the regions of its image that are kept (in order) and its
// token ids after augmentation. assemble_batch pads a list of them into a Batch (the loader's last
// step; the trajectory replay feeds it the official loader's recorded choices).
struct BatchSample {
    int64_t cap = 0;
    std::vector<int64_t> regions, ids;
};
Batch assemble_batch(const PrecompDataset& data, const std::vector<BatchSample>& samples, bool check_finite);

// The text side: either WordPiece (BERT) or a SCAN vocabulary (BiGRU). Captions are tokenized
// once, up front; augmentation then works on the stored words.
class TextFront {
public:
    static TextFront bert(std::shared_ptr<const BertTokenizer> tok);
    static TextFront vocab(std::shared_ptr<Vocab> v);  // appends <mask> (as the reference does at train start)
    bool is_bert() const { return (bool)bert_; }
    int vocab_size() const;
    // pre-tokenize every caption (progress shown for big datasets)
    void prepare(const std::vector<std::string>& captions);
    // ids of caption c, augmented with rng when train
    std::vector<int64_t> ids(int64_t c, bool train, Rng& rng) const;

private:
    std::shared_ptr<const BertTokenizer> bert_;
    std::shared_ptr<Vocab> vocab_;
    int mask_id_ = 0;
    std::vector<std::vector<std::vector<int>>> words_;  // BERT: per caption, per word, pieces
    std::vector<std::vector<int>> tokens_;               // BiGRU: per caption, <start> .. <end>
};

struct LoaderOptions {
    int64_t batch_size = 128;
    bool train = false;         // augmentation + shuffling + drop_last
    bool size_augment = true;   // region dropping (train only)
    bool token_augment = true;  // token masking (train only)
    uint64_t seed = 0;
    bool prefetch = true;       // build the next batch on a background thread
    bool check_finite = true;   // every row read must be finite (a NaN/Inf is one error naming file, row, column)
};

class BatchLoader {
public:
    BatchLoader(const PrecompDataset& data, const TextFront& text, const LoaderOptions& opt);
    int64_t batches_per_epoch() const;
    void start_epoch(int epoch, int64_t skip_batches = 0);  // skip_batches: resume mid-epoch
    bool next(Batch& out);  // false at the end of the epoch
    // build batch number b of the current epoch directly (deterministic; used by tests)
    Batch make_batch(int64_t b) const;

private:
    const PrecompDataset& data_;
    const TextFront& text_;
    LoaderOptions opt_;
    int epoch_ = 0;
    int64_t cursor_ = 0;
    std::vector<int64_t> order_;
    std::future<Batch> pending_;
    bool has_pending_ = false;
};

}  // namespace vsd
