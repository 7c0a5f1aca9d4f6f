// optim.h — AdamW (exactly PyTorch's), parameter groups, gradient clipping, step decay.
//
// AdamW, per parameter p with gradient g, at step t (1-based), group lr = base_lr * lr_mult:
//   p  <- p * (1 - lr * weight_decay)                    decoupled weight decay (Loshchilov & Hutter)
//   m  <- b1 m + (1 - b1) g
//   v  <- b2 v + (1 - b2) g^2
//   p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// This is the order and the epsilon placement of torch.optim.AdamW (1.13), so the same gradients
// give the same weights. A parameter that has never received a gradient is skipped (as PyTorch
// skips p.grad is None); the VSD reference's unused GatedFusion weights rely on that. Like PyTorch,
// t counts each parameter's own updates, so parameters that join late (HREM's relation module,
// after its warmup) start with full bias correction.
#pragma once
#include <memory>
#include <unordered_set>
#include <vector>

#include "../core/tensor.h"

namespace vsd {

struct ParamGroup {
    std::vector<Tensor> params;
    float lr_mult = 1.0f;       // this group's lr = base lr * lr_mult (BERT: 0.1 or 0.05)
    float weight_decay = 0.0f;
};

// What a training step reads back from the device: the gradient norm (before clipping) and the loss.
struct StepScalars {
    float grad_norm = 0.0f, loss = 0.0f;
};

class AdamW {
public:
    AdamW(std::vector<ParamGroup> groups, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f);
    void step();       // one update of every parameter that has a gradient
    void zero_grad();  // zero every parameter's gradient
    // The global gradient norm of `params`, clipped to max_norm as clip_grad_norm() below, and the
    // loss's value. On the CPU that is clip_grad_norm(params) and loss.item(). On the device,
    // `params` must be this optimiser's parameters (in any order): the norm and the clip
    // coefficient are computed there over its chunk table (kernels/adamw.h), the coefficient stays
    // in device memory for step(), and the two scalars come back in one copy. (There the stored
    // gradients are left as they are: the update reads them times the coefficient.)
    // A non-finite loss or norm: the caller skips the step (no step() call), as the reference does.
    StepScalars clip_and_read(const std::vector<Tensor>& params, float max_norm, const Tensor& loss);
    // The device's step without a read (the trainer reads on log steps only): the same norm and
    // coefficient, and the device itself skips the next step() when the loss or the norm is not
    // finite (kernels/adamw.h: kStepScalars). row, when given (3 device floats), receives the
    // loss, the norm and 1 if skipped. Then call step() in any case; settle() folds the skipped
    // steps into the counts.
    void clip(const std::vector<Tensor>& params, float max_norm, const Tensor& loss, float* row = nullptr);
    // Device: the steps the device skipped since the last settle (one read), taken off the step
    // counts (steps(), param_steps()); call it before reading those. 0 on the CPU.
    int64_t settle();
    // Device: 1.0 in device memory when the last clip() decided to skip, else 0 (a condition for
    // kernels/many.h's copy_many); null before the first clip
    const float* skip_flag() const;
    void set_lr(float lr) { lr_ = lr; }
    float lr() const { return lr_; }
    int64_t steps() const { return t_; }                        // step() calls
    std::vector<int64_t>& param_steps() { return tp_; }         // updates per parameter (group order)
    std::vector<Tensor> params() const;  // all parameters, in group order
    // state, for checkpoints: first and second moments per parameter (group order), each on its
    // parameter's device
    std::vector<Tensor>& exp_avg() { return m_; }
    std::vector<Tensor>& exp_avg_sq() { return v_; }
    // position of a parameter in that order (by identity), -1 when it is not optimised here
    int index_of(const Tensor& p) const;
    void set_steps(int64_t t) { t_ = t; }

private:
    struct DevicePlan;
    DevicePlan& plan();  // the device path's chunk table, remade when the tensors with gradients change

    std::vector<ParamGroup> groups_;
    float lr_, b1_, b2_, eps_;
    int64_t t_ = 0;
    std::vector<int64_t> tp_;
    std::vector<Tensor> m_, v_;
    bool on_device_ = false;  // every parameter on the device: the one-launch path
    std::shared_ptr<DevicePlan> plan_;
    bool clipped_ = false;    // clip_and_read ran since the last step(): apply its coefficient (and its plan)
    std::unordered_set<const void*> ids_;  // the parameters' identities, for clip_and_read's check
};

// Scale all gradients so their global L2 norm is at most max_norm (torch.nn.utils.clip_grad_norm_:
// coefficient max_norm / (norm + 1e-6), applied when below 1). Returns the norm before clipping.
// CPU tensors; the device's is AdamW::clip_and_read.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

// Step decay: base_lr * gamma^(number of milestones <= epoch). E.g. milestones {15}: epochs 0..14
// use base_lr, epochs 15.. use base_lr * 0.1 (the reference's lr_update / lr_schedules).
float step_decay_lr(float base_lr, int epoch, const std::vector<int>& milestones, float gamma = 0.1f);

}  // namespace vsd
