#include "replay.h"

#include <cstdio>

#include "../core/check.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "../data/torch_load.h"
#include "checkpoint.h"
#include "trainer.h"

namespace vsd {

static const char* kReplayHint = "re-create the fixture with tools/make_trajectory_fixtures.py";

ReplayBatches::ReplayBatches(const std::string& dir, const PrecompDataset& train, bool check_finite)
    : file_(dir + "/batches.safetensors"), st_(safetensors_load(file_)), data_(train), check_finite_(check_finite) {
    while (st_.find(strfmt("b%lld.tokens", (long long)total_))) total_++;
    ENSURE_HINT(total_ > 0, kReplayHint, "%s: no recorded batch (expected tensors b0.kept, b0.tokens, ...)", file_.c_str());
    auto it = st_.metadata.find("steps_per_epoch");
    ENSURE_HINT(it != st_.metadata.end(), kReplayHint, "%s: no 'steps_per_epoch' in the metadata", file_.c_str());
    per_epoch_ = std::atoll(it->second.c_str());
    ENSURE_HINT(per_epoch_ > 0 && total_ % per_epoch_ == 0, kReplayHint,
                "%s: %lld batches are not whole epochs of %lld", file_.c_str(), (long long)total_, (long long)per_epoch_);
}

const Tensor& ReplayBatches::get(int64_t step, const std::string& what) const {
    const std::string name = strfmt("b%lld.%s", (long long)step, what.c_str());
    const Tensor* t = st_.find(name);
    ENSURE_HINT(t && t->dtype() == DType::I64, kReplayHint, "%s: no int64 tensor %s", file_.c_str(), name.c_str());
    return *t;
}

void ReplayBatches::start_epoch(int epoch, int64_t skip) {
    step_ = (int64_t)epoch * per_epoch_ + skip;
    end_ = (int64_t)(epoch + 1) * per_epoch_;
    ENSURE_HINT(end_ <= total_, "lower --num_epochs to the recorded epochs", "%s: epoch %d was not recorded (%lld epochs)",
                file_.c_str(), epoch + 1, (long long)(total_ / per_epoch_));
}

bool ReplayBatches::next(Batch& out) {
    if (step_ >= end_) return false;
    const Tensor &kept = get(step_, "kept"), &tokens = get(step_, "tokens"), &lengths = get(step_, "lengths"),
                 &caps = get(step_, "cap_ids");
    const int64_t B = tokens.size(0);
    ENSURE_HINT(kept.ndim() == 2 && kept.size(0) == B && lengths.numel() == B && caps.numel() == B, kReplayHint,
                "%s: batch %lld: kept %s, tokens %s, lengths %s, cap_ids %s do not agree", file_.c_str(), (long long)step_,
                kept.shape_str().c_str(), tokens.shape_str().c_str(), lengths.shape_str().c_str(), caps.shape_str().c_str());
    std::vector<BatchSample> s(B);
    for (int64_t b = 0; b < B; b++) {
        s[b].cap = caps.i64()[b];
        ENSURE_HINT(s[b].cap >= 0 && s[b].cap < data_.n_cap, kReplayHint, "%s: batch %lld: caption %lld of %lld",
                    file_.c_str(), (long long)step_, (long long)s[b].cap, (long long)data_.n_cap);
        for (int64_t r = 0; r < kept.size(1); r++) {
            const int64_t q = kept.i64()[b * kept.size(1) + r];
            if (q < 0) break;
            ENSURE_HINT(q < data_.n_regions, kReplayHint, "%s: batch %lld: region %lld of %lld", file_.c_str(),
                        (long long)step_, (long long)q, (long long)data_.n_regions);
            s[b].regions.push_back(q);
        }
        const int64_t L = lengths.i64()[b];
        ENSURE_HINT(L > 0 && L <= tokens.size(1), kReplayHint, "%s: batch %lld: length %lld", file_.c_str(), (long long)step_,
                    (long long)L);
        s[b].ids.assign(tokens.i64() + b * tokens.size(1), tokens.i64() + b * tokens.size(1) + L);
    }
    out = assemble_batch(data_, s, check_finite_);  // the loader's own last step: padding, embeddings, checks
    negs_.clear();
    for (int k = 0;; k++) {
        const Tensor* t = st_.find(strfmt("b%lld.neg%d", (long long)step_, k));
        if (!t) break;
        ENSURE_HINT(t->dtype() == DType::I64, kReplayHint, "%s: b%lld.neg%d is not int64", file_.c_str(), (long long)step_, k);
        negs_.emplace_back(t->i64(), t->i64() + t->numel());
    }
    step_++;
    return true;
}

const std::vector<int64_t>* ReplayBatches::negatives(int k) const {
    return k >= 0 && k < (int)negs_.size() ? &negs_[k] : nullptr;
}

void load_initial_weights(Module& model, const std::string& path) {
    SafeTensors st = load_weights_file(path);
    bool reference = false;  // {'model': [...]}, as the reference's train.py saves it; else ours
    for (auto& [n, t] : st.tensors) reference |= n.rfind("model.0.", 0) == 0 || n.rfind("model.1.", 0) == 0;
    load_model_weights(model, reference ? reference_state_as_ours(st) : st, path, {"criterion."});
}

// The lines are kept and written once, atomically, when the run ends (a failed run's steps too)
StepTrace::~StepTrace() {
    if (path_.empty()) return;
    try {
        write_file_atomic(path_, text_);
    } catch (const Error& e) {
        std::fprintf(stderr, "warning: the step trace was not written: %s\n", e.what());
    }
}

void StepTrace::write(int64_t step, int epoch, float lr, const std::vector<std::pair<std::string, float>>& losses,
                      float grad_norm, const Module& model) {
    if (path_.empty()) return;
    std::string line = strfmt("{\"step\": %lld, \"epoch\": %d, \"lr\": %.9g, \"grad_norm\": %.9g, \"loss\": {", (long long)step,
                              epoch, lr, grad_norm);
    for (size_t i = 0; i < losses.size(); i++)
        line += strfmt("%s%s: %.9g", i ? ", " : "", json_quote(losses[i].first).c_str(), losses[i].second);
    line += "}, \"params\": {";
    bool first = true;
    for (auto& [name, p] : model.named_parameters()) {
        const std::vector<float> v = p.to_vector();
        // a multi-head attention's packed in_proj_bias also by thirds (q, k, v): its key third is moved
        // by rounding noise alone (softmax ignores it), so the tests compare the other two
        const bool thirds = name.size() >= 12 && name.compare(name.size() - 12, 12, "in_proj_bias") == 0;
        const size_t n = v.size(), cut[4] = {0, n / 3, 2 * n / 3, n};
        for (int part = -1; part < (thirds ? 3 : 0); part++) {  // -1: the whole tensor
            const size_t lo = part < 0 ? 0 : cut[part], hi = part < 0 ? n : cut[part + 1];
            double s = 0, q = 0;
            for (size_t i = lo; i < hi; i++) {
                s += v[i];
                q += (double)v[i] * v[i];
            }
            const std::string key = name + (part < 0 ? "" : part == 0 ? "#q" : part == 1 ? "#k" : "#v");
            line += strfmt("%s%s: [%.17g, %.17g]", first ? "" : ", ", json_quote(key).c_str(), s, q);
            first = false;
        }
    }
    line += "}, \"buffers\": {";
    first = true;
    for (auto& [name, b] : model.named_buffers()) {
        if (b.dtype() != DType::F32) continue;
        line += strfmt("%s%s: [", first ? "" : ", ", json_quote(name).c_str());
        const std::vector<float> v = b.to_vector();
        for (size_t i = 0; i < v.size(); i++) line += strfmt("%s%.9g", i ? ", " : "", v[i]);
        line += "]";
        first = false;
    }
    text_ += line + "}}\n";
}

}  // namespace vsd
