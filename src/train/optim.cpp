#include "optim.h"

#include "../../kernels/adamw.h"
#include "../../kernels/backend.h"

#include <cmath>
#include <cstring>

namespace vsd {

// The device path's state: a table of chunks over the tensors that have gradients (uploaded once,
// remade only when that set, a buffer, or a step count changes from outside, e.g. a resume), the
// per-chunk partial norms, and the step's scalars (kernels/adamw.h: kStepScalars).
struct AdamW::DevicePlan {
    static constexpr int64_t kChunk = 1 << 16;  // elements per chunk (a block's work)
    std::vector<AdamWChunk> host;  // the table, as uploaded
    std::vector<int64_t> active;   // indices (group order) of the tensors it covers
    std::vector<const void*> ptrs; // their p, grad, m, v, as when made
    std::vector<int64_t> t0;       // their update counts when made
    Tensor table, partial, scalars, one;
    int64_t nchunks = 0, since = 0;
};

AdamW::AdamW(std::vector<ParamGroup> groups, float lr, float beta1, float beta2, float eps)
    : groups_(std::move(groups)), lr_(lr), b1_(beta1), b2_(beta2), eps_(eps) {
    int devices = 0, total = 0;
    for (const ParamGroup& g : groups_)
        for (const Tensor& p : g.params) {
            ENSURE(p.dtype() == DType::F32, "AdamW: parameters must be float32, got %s", dtype_name(p.dtype()));
            m_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
            v_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
            tp_.push_back(0);
            devices += p.is_cuda();
            total++;
            ids_.insert(p.id());
        }
    ENSURE(devices == 0 || devices == total, "AdamW: %d of %d parameters are on the device: all or none", devices, total);
    on_device_ = devices > 0;
    ENSURE(!on_device_ || groups_.size() <= (size_t)kAdamWMaxGroups, "AdamW: at most %d parameter groups on the device, got %zu",
           kAdamWMaxGroups, groups_.size());
}

AdamW::DevicePlan& AdamW::plan() {
    if (!plan_) plan_ = std::make_shared<DevicePlan>();
    DevicePlan& d = *plan_;
    // what the table must cover now
    std::vector<int64_t> active;
    std::vector<const void*> ptrs;
    size_t k = 0;
    for (const ParamGroup& g : groups_)
        for (const Tensor& p : g.params) {
            if (p.has_grad()) {
                active.push_back((int64_t)k);
                ptrs.insert(ptrs.end(), {p.data(), p.grad(), m_[k].data(), v_[k].data()});
            }
            k++;
        }
    if (d.table.defined() && active == d.active && ptrs == d.ptrs) {
        bool counts_moved_by_step = true;  // (a resume sets them from outside)
        for (size_t i = 0; i < active.size(); i++) counts_moved_by_step &= tp_[active[i]] == d.t0[i] + d.since;
        if (counts_moved_by_step) return d;
    }
    // the counts the new table starts from must leave out the steps the device skipped
    if (d.table.defined() && settle()) return plan();
    // (re)make it: chunks of at most kChunk elements, in group order
    d.active = active;
    d.ptrs = ptrs;
    d.host.clear();
    d.t0.clear();
    for (int64_t a : active) d.t0.push_back(tp_[a]);
    d.since = 0;
    k = 0;
    int32_t group = 0;
    for (ParamGroup& g : groups_) {
        for (Tensor& p : g.params) {
            if (p.has_grad())
                for (int64_t off = 0; off < p.numel(); off += DevicePlan::kChunk)
                    d.host.push_back({p.data() + off, p.grad() + off, m_[k].data() + off, v_[k].data() + off,
                                      std::min(DevicePlan::kChunk, p.numel() - off), tp_[k], group});
            k++;
        }
        group++;
    }
    d.nchunks = (int64_t)d.host.size();
    static_assert(sizeof(AdamWChunk) % sizeof(int64_t) == 0, "the table travels as int64 words");
    std::vector<int64_t> words(std::max<size_t>(1, d.host.size() * sizeof(AdamWChunk) / sizeof(int64_t)));
    if (!d.host.empty()) std::memcpy(words.data(), d.host.data(), d.host.size() * sizeof(AdamWChunk));
    d.table = Tensor::from_i64({(int64_t)words.size()}, words).to(Device::CUDA);
    d.partial = Tensor::empty({std::max<int64_t>(1, d.nchunks)}, DType::F32, Device::CUDA);
    d.scalars = Tensor::zeros({kStepScalars}, DType::F32, Device::CUDA);  // (no skipped step in this table yet)
    if (!d.one.defined()) d.one = Tensor::from({1}, {1.0f}).to(Device::CUDA);
    return d;
}

std::vector<Tensor> AdamW::params() const {
    std::vector<Tensor> r;
    for (const ParamGroup& g : groups_) r.insert(r.end(), g.params.begin(), g.params.end());
    return r;
}

int AdamW::index_of(const Tensor& p) const {
    int k = 0;
    for (const ParamGroup& g : groups_)
        for (const Tensor& q : g.params) {
            if (q.id() == p.id()) return k;
            k++;
        }
    return -1;
}

void AdamW::step() {
    t_++;
    if (on_device_) {  // every tensor in one launch (kernels/adamw.h), with clip_and_read's coefficient
        DevicePlan& d = clipped_ ? *plan_ : plan();  // (clip_and_read has just checked it)
        d.since++;
        for (int64_t a : d.active) tp_[a]++;
        AdamWHyper h;
        for (size_t g = 0; g < groups_.size(); g++) {
            h.lr[g] = lr_ * groups_[g].lr_mult;
            h.wd[g] = groups_[g].weight_decay;
        }
        h.b1 = b1_, h.b2 = b2_, h.eps = eps_, h.since = d.since;
        VSD_RUN(d.table.backend(), adamw_chunks)((const AdamWChunk*)d.table.i64(), d.nchunks, h,
                                                 clipped_ ? d.scalars.data() + 1 : d.one.data(), d.scalars.data() + 4);
        clipped_ = false;
        return;
    }
    size_t k = 0;
    for (ParamGroup& g : groups_) {
        const float lr = lr_ * g.lr_mult;
        for (Tensor& p : g.params) {
            float* m = m_[k].data();
            float* v = v_[k].data();
            int64_t& t = tp_[k];
            k++;
            if (!p.has_grad()) continue;
            t++;
            adamw_update_cpu(p.data(), p.grad(), m, v, p.numel(), lr, b1_, b2_, eps_, g.weight_decay, adamw_bc1(b1_, t),
                             adamw_bc2_sqrt(b2_, t));
        }
    }
}

void AdamW::zero_grad() {
    clipped_ = false;
    if (on_device_) {  // one launch over the table; a gradient not in it yet is made zeroed when first used
        DevicePlan& d = plan();
        VSD_RUN(d.table.backend(), zero_chunks)((const AdamWChunk*)d.table.i64(), d.nchunks);
        return;
    }
    for (ParamGroup& g : groups_)
        for (Tensor& p : g.params) p.zero_grad();
}

void AdamW::clip(const std::vector<Tensor>& params, float max_norm, const Tensor& loss, float* row) {
    ENSURE(on_device_, "AdamW::clip: the device's path (on the CPU use clip_and_read)");
    size_t ours = 0;
    for (const Tensor& p : params) ours += ids_.count(p.id());
    ENSURE(ours == params.size() && ours == tp_.size(),
           "AdamW::clip: on the device the norm covers the optimiser's own %zu parameters; got %zu, %zu of "
           "them the optimiser's", tp_.size(), params.size(), ours);
    ENSURE(!loss.defined() || (loss.numel() == 1 && loss.is_cuda()), "AdamW::clip: the loss must be one value on the device");
    DevicePlan& d = plan();
    const AdamWChunk* table = (const AdamWChunk*)d.table.i64();
    VSD_RUN(d.table.backend(), chunk_sqnorms)(d.partial.data(), table, d.nchunks);
    VSD_RUN(d.table.backend(), clip_coefficient)(d.scalars.data(), d.partial.data(), d.nchunks, max_norm,
                                                 loss.defined() ? loss.data() : nullptr, row);
    clipped_ = true;
}

StepScalars AdamW::clip_and_read(const std::vector<Tensor>& params, float max_norm, const Tensor& loss) {
    if (!on_device_) return {clip_grad_norm(params, max_norm), loss.item()};
    clip(params, max_norm, loss);
    DevicePlan& d = *plan_;
    std::vector<float> s = d.scalars.to_vector();  // the step's one read-back
    if (s[3] != 0.0f) {  // the caller skips this step (no step()): the device must not count it
        s[4] -= 1.0f;
        d.scalars = Tensor::from({kStepScalars}, s).to(Device::CUDA);
        clipped_ = false;
    }
    return {s[0], loss.defined() ? s[2] : 0.0f};
}

int64_t AdamW::settle() {
    if (!on_device_ || !plan_ || !plan_->scalars.defined()) return 0;
    DevicePlan& d = *plan_;
    std::vector<float> s = d.scalars.to_vector();
    const int64_t k = (int64_t)s[4];
    if (k == 0) return 0;
    // the host counted every step() call; the device did not update on k of them
    for (int64_t a : d.active) tp_[a] -= k;
    d.since -= k;
    t_ -= k;
    s[4] = 0.0f;
    d.scalars = Tensor::from({kStepScalars}, s).to(Device::CUDA);
    return k;
}

const float* AdamW::skip_flag() const {
    return plan_ && plan_->scalars.defined() ? plan_->scalars.data() + 3 : nullptr;
}

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
    double ss = 0.0;
    for (const Tensor& p : params) {
        if (!p.has_grad()) continue;
        ENSURE(!p.is_cuda(), "clip_grad_norm: device gradients are clipped by AdamW::clip_and_read");
        const float* g = p.grad();
        const int64_t n = p.numel();
        for (int64_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    }
    const float norm = (float)std::sqrt(ss);
    const float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f)
        for (const Tensor& p : params) {
            if (!p.has_grad()) continue;
            float* g = p.grad();
            const int64_t n = p.numel();
            for (int64_t i = 0; i < n; i++) g[i] *= coef;
        }
    return norm;
}

float step_decay_lr(float base_lr, int epoch, const std::vector<int>& milestones, float gamma) {
    float lr = base_lr;
    for (int m : milestones)
        if (epoch >= m) lr *= gamma;
    return lr;
}

}  // namespace vsd
