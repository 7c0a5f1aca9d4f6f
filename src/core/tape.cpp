#include "tape.h"

#include <cstring>

namespace vsd {

Tape& tape() {
    static thread_local Tape t;
    return t;
}

static thread_local bool g_grad_enabled = true;
bool grad_enabled() { return g_grad_enabled; }
NoGrad::NoGrad() : prev(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = prev; }

bool any_needs_grad(std::initializer_list<Tensor> inputs) {
    if (!g_grad_enabled) return false;
    for (const Tensor& t : inputs)
        if (t.needs_grad()) return true;
    return false;
}

static void record_impl(const char* name, bool needed, Tensor& out, std::function<void()> fn) {
    if (!needed) return;
    // A view's impl is fresh, so marking it does not touch the tensor it views.
    out.requires_grad(true);
    tape().push(name, std::move(fn));
}

void record(const char* name, std::initializer_list<Tensor> inputs, Tensor& out, std::function<void()> fn) {
    record_impl(name, any_needs_grad(inputs), out, std::move(fn));
}

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, std::function<void()> fn) {
    bool needed = false;
    if (g_grad_enabled)
        for (const Tensor& t : inputs) needed = needed || t.needs_grad();
    record_impl(name, needed, out, std::move(fn));
}

void Tape::backward(const Tensor& root_in, const Tensor& seed) {
    Tensor root = root_in;
    ENSURE(root.needs_grad(), "backward: the tensor %s does not require grad (no parameter reached it, "
          "or it was computed under NoGrad)", root.shape_str().c_str());
    if (seed.defined())
        ENSURE(seed.shape() == root.shape(), "backward: seed %s does not match output %s", seed.shape_str().c_str(),
              root.shape_str().c_str());
    else
        ENSURE(root.numel() == 1, "backward without a seed needs a scalar loss, got %s (pass a seed gradient)",
              root.shape_str().c_str());
    // root's gradient += the seed (1 for a scalar loss), where root lives
    const Tensor s = (seed.defined() ? seed : Tensor::full(root.shape(), 1.0f)).to(root.device());
    float* g = root.grad();
    if (root.is_cuda()) {
        root.backend().accumulate(g, s.data(), root.numel());
    } else {
        for (int64_t i = 0; i < root.numel(); i++) g[i] += s.data()[i];
    }
    // Reverse order = reverse topological order. Move the entries out first so that a closure can
    // never see a half-cleared tape, and so everything is freed when this scope ends.
    std::vector<Entry> entries;
    entries.swap(entries_);
    for (size_t i = entries.size(); i-- > 0;) {
        entries[i].backward();
        entries[i].backward = nullptr;  // free captured activations as we go
    }
}

std::vector<const char*> Tape::names() const {
    std::vector<const char*> r;
    for (const Entry& e : entries_) r.push_back(e.name);
    return r;
}

}  // namespace vsd
