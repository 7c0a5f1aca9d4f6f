#include "tape.h"

#include <cstring>

namespace vsd {

Tape& tape() {
    static thread_local Tape t;
    return t;
}

const char*& current_op() {
    static thread_local const char* op = "";
    return op;
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

// The inputs whose gradient a closure will add to
static std::vector<Tensor> needing_grad(const Tensor* first, const Tensor* last) {
    std::vector<Tensor> r;
    for (const Tensor* t = first; t != last; t++)
        if (t->needs_grad()) r.push_back(*t);
    return r;
}

static void record_impl(const char* name, bool needed, Tensor& out, std::function<void()> fn, std::vector<Tensor> grads) {
    if (!needed) return;
    // A view's impl is fresh, so marking it does not touch the tensor it views.
    out.requires_grad(true);
    tape().push(name, std::move(fn), std::move(grads));
}

void record(const char* name, std::initializer_list<Tensor> inputs, Tensor& out, std::function<void()> fn) {
    const bool needed = any_needs_grad(inputs);
    record_impl(name, needed, out, std::move(fn), needed ? needing_grad(inputs.begin(), inputs.end()) : std::vector<Tensor>{});
}

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, std::function<void()> fn) {
    bool needed = false;
    if (g_grad_enabled)
        for (const Tensor& t : inputs) needed = needed || t.needs_grad();
    record_impl(name, needed, out, std::move(fn),
                needed ? needing_grad(inputs.data(), inputs.data() + inputs.size()) : std::vector<Tensor>{});
}

void record_view(const char* name, const Tensor& x, Tensor& out, std::function<void()> fn) {
    record_impl(name, any_needs_grad({x}), out, std::move(fn), {});
}

// Device backward: allocate the gradient buffers that entries [.., end) will add to, from `end`
// down, until kZeroStretchBytes of new buffers; zero them with one launch (or a few, 64 buffers
// each). Returns the index of the last entry covered: the next stretch starts below it.
static size_t prepare_stretch(std::vector<Tape::Entry>& entries, size_t end) {
    constexpr size_t kZeroStretchBytes = 256u << 20;
    std::vector<float*> ptr;
    std::vector<int64_t> n;
    const Backend* backend = nullptr;
    size_t bytes = 0, i = end;
    while (i > 0 && bytes < kZeroStretchBytes) {
        i--;
        for (const Tensor& t : entries[i].grads) {
            if (!t.is_cuda() || t.numel() == 0) continue;  // a CPU input keeps grad()'s own zeroing
            if (float* p = t.grad_unzeroed()) {
                ENSURE(!backend || backend == &t.backend(), "backward: the tape's tensors live on two device backends");
                backend = &t.backend();
                ptr.push_back(p);
                n.push_back(t.numel());
                bytes += (size_t)t.numel() * sizeof(float);
            }
        }
    }
    if (!ptr.empty()) backend->zero_many(ptr.data(), n.data(), (int)ptr.size());
    return i;
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
    size_t ready = entries.size();  // device: entries [ready, ..) have their gradient buffers
    for (size_t i = entries.size(); i-- > 0;) {
        if (root.is_cuda() && i < ready) ready = prepare_stretch(entries, i + 1);
        current_op() = entries[i].name;
        entries[i].backward();
        entries[i].backward = nullptr;  // free captured activations as we go
        entries[i].grads.clear();
    }
}

std::vector<const char*> Tape::names() const {
    std::vector<const char*> r;
    for (const Entry& e : entries_) r.push_back(e.name);
    return r;
}

}  // namespace vsd
