#include "optim.h"

#include "../../kernels/adamw.h"
#include "../../kernels/backend.h"
#include "../../kernels/elementwise.h"
#include "../../kernels/kmeans.h"  // sqnorm_rows

#include <cmath>

namespace vsd {

AdamW::AdamW(std::vector<ParamGroup> groups, float lr, float beta1, float beta2, float eps)
    : groups_(std::move(groups)), lr_(lr), b1_(beta1), b2_(beta2), eps_(eps) {
    for (const ParamGroup& g : groups_)
        for (const Tensor& p : g.params) {
            ENSURE(p.dtype() == DType::F32, "AdamW: parameters must be float32, got %s", dtype_name(p.dtype()));
            m_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
            v_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
            tp_.push_back(0);
        }
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
            const double bc1 = 1.0 - std::pow((double)b1_, (double)t);
            const double bc2_sqrt = std::sqrt(1.0 - std::pow((double)b2_, (double)t));
            if (p.is_cuda())  // the same update, one thread per element (kernels/adamw.cu)
                VSD_RUN(p.backend(), adamw_update)(p.data(), p.grad(), m, v, p.numel(), lr, b1_, b2_, eps_,
                                                   g.weight_decay, (float)bc1, (float)bc2_sqrt);
            else
                adamw_update_cpu(p.data(), p.grad(), m, v, p.numel(), lr, b1_, b2_, eps_, g.weight_decay, bc1, bc2_sqrt);
        }
    }
}

void AdamW::zero_grad() {
    for (ParamGroup& g : groups_)
        for (Tensor& p : g.params) p.zero_grad();
}

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
    double ss = 0.0;
    // device gradients: each one's squared norm into one slot of a device buffer, read back once
    std::vector<const Tensor*> dev;
    for (const Tensor& p : params)
        if (p.has_grad() && p.is_cuda()) dev.push_back(&p);
    if (!dev.empty()) {
        Tensor sq = Tensor::empty({(int64_t)dev.size()}, DType::F32, Device::CUDA);
        for (size_t i = 0; i < dev.size(); i++) VSD_RUN(dev[i]->backend(), sqnorm_rows)(sq.data() + i, dev[i]->grad(), 1, dev[i]->numel());
        for (float v : sq.to_vector()) ss += (double)v;
    }
    for (const Tensor& p : params) {
        if (!p.has_grad() || p.is_cuda()) continue;
        const float* g = p.grad();
        for (int64_t i = 0; i < p.numel(); i++) ss += (double)g[i] * g[i];
    }
    const float norm = (float)std::sqrt(ss);
    const float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f)
        for (const Tensor& p : params) {
            if (!p.has_grad()) continue;
            float* g = p.grad();
            if (p.is_cuda()) VSD_RUN(p.backend(), unary_forward)(Unary::MulScalar, g, g, p.numel(), coef, 0.0f);
            else
                for (int64_t i = 0; i < p.numel(); i++) g[i] *= coef;
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
