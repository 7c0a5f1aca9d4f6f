#include "module.h"

#include <cmath>
#include <set>

namespace vsd {

void Module::register_parameter(const std::string& name, Tensor& t) {
    t.requires_grad(true);
    params_.push_back({name, &t});
}
void Module::register_buffer(const std::string& name, Tensor& t) { buffers_.push_back({name, &t}); }
void Module::register_module(const std::string& name, Module& m) { children_.push_back({name, &m}); }

void Module::collect(const std::string& prefix, Named& out, bool buffers) const {
    for (const auto& p : buffers ? buffers_ : params_) out.push_back({prefix + p.first, *p.second});
    for (const auto& c : children_) c.second->collect(prefix + c.first + ".", out, buffers);
}

Module::Named Module::named_parameters(const std::string& prefix) const {
    Named out;
    collect(prefix, out, false);
    return out;
}
Module::Named Module::named_buffers(const std::string& prefix) const {
    Named out;
    collect(prefix, out, true);
    return out;
}
Module::Named Module::state_dict(const std::string& prefix) const {
    Named out = named_parameters(prefix), b = named_buffers(prefix);
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& p : named_parameters()) out.push_back(p.second);
    return out;
}

int64_t Module::num_parameters() const {
    int64_t n = 0;
    for (auto& p : named_parameters()) n += p.second.numel();
    return n;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& c : children_) c.second->train(on);
}

void uniform_(Tensor& t, float bound, Rng& rng) { fill_uniform(t, -bound, bound, rng); }

float default_bound(int64_t fan_in) { return 1.0f / std::sqrt((float)fan_in); }

void xavier_uniform_(Tensor& t, Rng& rng) {
    ENSURE(t.ndim() == 2, "xavier_uniform_ expects a 2-d weight, got %s", t.shape_str().c_str());
    uniform_(t, std::sqrt(6.0f / (float)(t.size(0) + t.size(1))), rng);
}

void Module::to(Device d) {
    for (auto& [name, t] : params_) {
        const bool rg = t->needs_grad();
        *t = t->to(d);
        t->requires_grad(rg);
    }
    for (auto& [name, t] : buffers_)
        if (t->dtype() == DType::F32) *t = t->to(d);
    for (auto& [name, m] : children_) m->to(d);
}

void load_named_tensors(Module& m, const SafeTensors& st, const std::string& source, const std::vector<std::string>& prefixes,
                        const std::function<bool(const std::string&)>& ignore, const std::string& what, const std::string& hint) {
    std::vector<std::string> problems;
    std::set<std::string> used;
    for (auto& [name, p] : m.state_dict()) {
        const Tensor* src = nullptr;
        for (const std::string& pre : prefixes)
            if (!src && (src = st.find(pre + name))) used.insert(pre + name);
        if (!src) { problems.push_back("missing " + name + " " + p.shape_str()); continue; }
        if (src->shape() != p.shape()) {
            problems.push_back("mis-shaped " + name + ": expected " + p.shape_str() + ", found " + src->shape_str());
            continue;
        }
        const std::string bad = describe_nonfinite(*src);
        if (!bad.empty()) problems.push_back("non-finite " + name + ": " + bad);
        copy_values(p, *src);
    }
    for (auto& [name, t] : st.tensors)
        if (!used.count(name) && !(ignore && ignore(name))) problems.push_back("unexpected " + name + " " + t.shape_str());
    if (!problems.empty()) {
        std::string msg;
        for (const std::string& p : problems) msg += "\n  " + p;
        FATAL("%s: the weights do not match the %s (%zu problem%s):%s\nHINT: %s", source.c_str(), what.c_str(), problems.size(),
              problems.size() > 1 ? "s" : "", msg.c_str(), hint.c_str());
    }
}

}  // namespace vsd
