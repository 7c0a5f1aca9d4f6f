#include "checkpoint.h"

#include "../../kernels/backend.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

namespace vsd {

void save_checkpoint(const std::string& path, const Module& model, const AdamW* opt,
                     const std::map<std::string, std::string>& meta) {
    auto tensors = model.state_dict();
    for (auto& nt : tensors) nt.second = nt.second.to(Device::CPU);  // device tensors are written from host copies
    if (opt) {
        auto params = model.named_parameters();
        auto& m = const_cast<AdamW*>(opt)->exp_avg();
        auto& v = const_cast<AdamW*>(opt)->exp_avg_sq();
        for (auto& [name, p] : params) {  // by identity: the optimiser's group order need not be the model's
            int k = opt->index_of(p);
            if (k < 0) continue;
            tensors.push_back({"optimizer.exp_avg." + name, m[k].to(Device::CPU)});
            tensors.push_back({"optimizer.exp_avg_sq." + name, v[k].to(Device::CPU)});
            tensors.push_back({"optimizer.step." + name, Tensor::from_i64({}, {const_cast<AdamW*>(opt)->param_steps()[k]})});
        }
    }
    std::map<std::string, std::string> md = meta;
    md["format"] = "vsd.cpp checkpoint v1";
    if (opt) md["adam_steps"] = std::to_string(opt->steps());
    safetensors_save(path, tensors, md);
}

void load_model_weights(Module& model, const SafeTensors& st, const std::string& source,
                        const std::vector<std::string>& optional_prefixes) {
    std::vector<std::string> problems;
    std::set<std::string> used;
    for (auto& [name, t] : model.state_dict()) {
        const Tensor* src = st.find(name);
        if (!src) {
            bool optional = false;
            for (const std::string& p : optional_prefixes) optional |= name.rfind(p, 0) == 0;
            if (!optional) problems.push_back("missing " + name + " " + t.shape_str());
            continue;
        }
        used.insert(name);
        if (src->shape() != t.shape()) {
            problems.push_back("mis-shaped " + name + ": expected " + t.shape_str() + ", found " + src->shape_str());
            continue;
        }
        if (t.dtype() == DType::F32) {
            ENSURE(src->dtype() == DType::F32, "%s: tensor %s must be floating point", source.c_str(), name.c_str());
            const float* w = src->data();
            for (int64_t i = 0; i < src->numel(); i++)
                ENSURE_HINT(std::isfinite(w[i]), "the weights are damaged (a diverged run?); use an earlier checkpoint",
                            "%s: tensor %s, element %lld is %g (not finite)", source.c_str(), name.c_str(), (long long)i, w[i]);
            if (t.numel() && t.is_cuda()) t.backend().copy_to_device(t.data(), src->data(), t.numel() * 4);
            else if (t.numel()) std::memcpy(t.data(), src->data(), t.numel() * 4);
        } else {
            for (int64_t i = 0; i < t.numel(); i++) t.i64()[i] = src->index_at(i);
        }
    }
    for (auto& [name, t] : st.tensors)
        if (!used.count(name) && name.rfind("optimizer.", 0) != 0) problems.push_back("unexpected " + name + " " + t.shape_str());
    if (!problems.empty()) {
        std::string msg;
        for (const std::string& p : problems) msg += "\n  " + p;
        FATAL("%s: the checkpoint does not match the model (%zu problem%s):%s\nHINT: train and evaluate with the same "
              "--text_encoder/--model/--embed_size/vocabulary", source.c_str(), problems.size(),
              problems.size() > 1 ? "s" : "", msg.c_str());
    }
}

static const std::string& meta_text(const SafeTensors& st, const std::string& key, const std::string& source) {
    auto it = st.metadata.find(key);
    ENSURE_HINT(it != st.metadata.end() && !it->second.empty(), "resume from a checkpoint written by train (checkpoint.safetensors)",
                "%s: no '%s' in the checkpoint's metadata", source.c_str(), key.c_str());
    return it->second;
}

int64_t checkpoint_meta_int(const SafeTensors& st, const std::string& key, const std::string& source) {
    const std::string& s = meta_text(st, key, source);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    ENSURE_HINT(*end == 0 && errno == 0 && v >= 0, "the checkpoint is damaged; use another one",
                "%s: metadata '%s' is '%s', expected a non-negative integer", source.c_str(), key.c_str(), s.c_str());
    return v;
}

double checkpoint_meta_double(const SafeTensors& st, const std::string& key, const std::string& source) {
    const std::string& s = meta_text(st, key, source);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    ENSURE_HINT(*end == 0, "the checkpoint is damaged; use another one", "%s: metadata '%s' is '%s', expected a number",
                source.c_str(), key.c_str(), s.c_str());
    return v;
}

void load_optimizer_state(AdamW& opt, const Module& model, const SafeTensors& st, const std::string& source) {
    auto params = model.named_parameters();
    auto& m = opt.exp_avg();
    auto& v = opt.exp_avg_sq();
    for (auto& [name, p] : params) {
        const int k = opt.index_of(p);
        if (k < 0) continue;
        const Tensor* a = st.find("optimizer.exp_avg." + name);
        const Tensor* b = st.find("optimizer.exp_avg_sq." + name);
        ENSURE_HINT(a && b, "resume needs a checkpoint written by train (checkpoint.safetensors)",
                    "%s: no optimizer state for %s", source.c_str(), name.c_str());
        ENSURE(m[k].numel() == a->numel() && v[k].numel() == b->numel(),
               "%s: optimizer state of %s has the wrong size", source.c_str(), name.c_str());
        m[k] = a->clone().view_as_shape(m[k].shape()).to(m[k].device());
        v[k] = b->clone().view_as_shape(v[k].shape()).to(v[k].device());
    }
    opt.set_steps(checkpoint_meta_int(st, "adam_steps", source));
    // per-parameter update counts (older checkpoints: every parameter at adam_steps)
    for (auto& [name, p] : model.named_parameters()) {
        const int k = opt.index_of(p);
        if (k < 0) continue;
        const Tensor* t = st.find("optimizer.step." + name);
        ENSURE(!t || t->numel() == 1, "%s: optimizer.step.%s holds %lld values, expected one", source.c_str(), name.c_str(),
               (long long)t->numel());
        opt.param_steps()[k] = t ? t->index_at(0) : opt.steps();
    }
}

}  // namespace vsd
