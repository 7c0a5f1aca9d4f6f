// replay.h — training on recorded batches, from recorded initial weights, with every step traced.
//
// The trajectory-parity tests (tests/test_trajectory.cpp) run the official training code on a small
// dataset (tools/make_trajectory_fixtures.py), record what its loader produced and what each step
// logged, and replay the same batches through train() — the same code path as `train`, with three
// flags:
//   --init_from FILE   start from these weights: ours (safetensors) or a reference checkpoint
//                      ({'model': [img_enc, txt_enc]}, names mapped as eval maps them)
//   --replay DIR       take the batches from DIR/batches.safetensors instead of our loader: per step
//                      b<step>.kept (the regions kept, -1 padded), .tokens, .lengths, .cap_ids, and
//                      optionally .neg<k> (the negatives the k-th triplet direction sampled)
//   --trace FILE       write one JSON line per step: lr, each loss term, the gradient norm before
//                      clipping, sum and sum of squares of every parameter after the update, and
//                      BatchNorm's running statistics
#pragma once
#include <string>
#include <vector>

#include "../data/batch.h"
#include "../data/safetensors.h"
#include "../nn/module.h"

namespace vsd {

class ReplayBatches {
public:
    // dir/batches.safetensors; the regions and embeddings come from `train` (the same files as the run),
    // checked for finiteness as the loader checks them (--check_inputs)
    ReplayBatches(const std::string& dir, const PrecompDataset& train, bool check_finite);
    int64_t per_epoch() const { return per_epoch_; }
    int64_t total() const { return total_; }
    void start_epoch(int epoch, int64_t skip);
    bool next(Batch& out);  // false at the end of the epoch
    // the recorded negatives of triplet direction k in the step most recently returned (nullptr: none)
    const std::vector<int64_t>* negatives(int k) const;

private:
    std::string file_;
    SafeTensors st_;
    const PrecompDataset& data_;
    bool check_finite_;
    int64_t per_epoch_ = 0, total_ = 0, step_ = 0, end_ = 0;
    std::vector<std::vector<int64_t>> negs_;
    const Tensor& get(int64_t step, const std::string& what) const;
};

// Initial weights: our checkpoint, or a reference {'model': [img_enc, txt_enc(, HREM's relation module)]}
// with its names mapped (reference_state_as_ours, trainer.h).
void load_initial_weights(Module& model, const std::string& path);

// One JSON line per training step (see above).
class StepTrace {
public:
    explicit StepTrace(const std::string& path) : path_(path) {}  // "" = off
    ~StepTrace();
    bool on() const { return !path_.empty(); }
    void write(int64_t step, int epoch, float lr, const std::vector<std::pair<std::string, float>>& losses, float grad_norm,
               const Module& model);

private:
    std::string path_, text_;
};

}  // namespace vsd
