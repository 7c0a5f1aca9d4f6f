// attention.cpp — fused multi-head attention: ours (training and inference), or cuDNN's (inference; kernels/attention.h, kernels/cudnn.h).
#include "../../kernels/attention.h"
#include "../../kernels/cudnn.h"
#include "util.h"

#include <algorithm>
#include <cmath>

namespace vsd {

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep, int64_t heads, float p, Rng* drop) {
    const Backend* kt = op_device("attention", {q, k, v});
    ENSURE(q.ndim() == 3 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention: q %s, k %s and v %s must be the same (B, L, H)", q.shape_str().c_str(), k.shape_str().c_str(),
           v.shape_str().c_str());
    for (const Tensor* t : {&q, &k, &v}) check_f32("attention", *t, "q, k, v");
    const int64_t B = q.size(0), L = q.size(1), H = q.size(2);
    ENSURE(heads > 0 && H % heads == 0, "attention: %lld columns do not split into %lld heads", (long long)H, (long long)heads);
    ENSURE(p >= 0.0f && p < 1.0f, "attention: dropout p must be in [0, 1), got %g", p);
    Tensor kp;
    if (keep.defined()) {
        ENSURE(keep.shape() == Shape({B, L}), "attention: keep must be (%lld, %lld), got %s", (long long)B, (long long)L,
               keep.shape_str().c_str());
        kp = (keep.dtype() == DType::F32 ? keep : to_float(keep)).to(q.device());  // (no copy when it is both)
    }
    const int64_t d = H / heads;
    const float scale = 1.0f / std::sqrt((float)d);
    // dropout on the probabilities only when training (a generator given): one draw, as the
    // unfused path's dropout op makes, so both drop the same elements
    const float pd = drop ? p : 0.0f;
    const uint64_t seed = pd > 0.0f ? drop->next_u64() : 0;
    const bool train = any_needs_grad({q, k, v});
    Tensor out = Tensor::empty(q.shape(), DType::F32, device_of(kt));
    Tensor P = train ? Tensor::empty({B, heads, L, L}, DType::F32, device_of(kt)) : Tensor();  // for the backward
    const float* keep_p = kp.defined() ? kp.data() : nullptr;
    float* Pp = train ? P.data() : nullptr;
    if (kt) VSD_RUN(*kt, attention_forward)(out.data(), q.data(), k.data(), v.data(), keep_p, B, L, heads, d, scale, Pp, pd, seed);
    else attention_forward_cpu(out.data(), q.data(), k.data(), v.data(), keep_p, B, L, heads, d, scale, Pp, pd, seed);
    record("attention", {q, k, v}, out, [q, k, v, out, P, B, L, heads, d, scale, pd, seed, kt]() mutable {
        Tensor dS = Tensor::empty(P.shape(), DType::F32, device_of(kt));  // scratch
        float* dq = q.needs_grad() ? q.grad() : nullptr;
        float* dk = k.needs_grad() ? k.grad() : nullptr;
        float* dv = v.needs_grad() ? v.grad() : nullptr;
        if (kt)
            VSD_RUN(*kt, attention_backward)(dq, dk, dv, out.grad(), q.data(), k.data(), v.data(), P.data(), dS.data(), B, L,
                                             heads, d, scale, pd, seed);
        else
            attention_backward_cpu(dq, dk, dv, out.grad(), q.data(), k.data(), v.data(), P.data(), dS.data(), B, L, heads, d,
                                   scale, pd, seed);
    });
    return out;
}

Tensor attention_cudnn(const Tensor& h, const Tensor& wq, const Tensor& bq, const Tensor& wk, const Tensor& bk,
                       const Tensor& wv, const Tensor& bv, const std::vector<int>& key_len, int64_t heads) {
    ENSURE(h.ndim() == 3 && h.is_cuda() && !emulated_device(),
           "attention_cudnn: h must be (B, L, E) on the GPU (cuDNN cannot run in the emulator), got %s on %s",
           h.shape_str().c_str(), h.is_cuda() ? "the device" : "the CPU");
    const int64_t B = h.size(0), L = h.size(1), E = h.size(2);
    for (const Tensor* w : {&wq, &wk, &wv})
        ENSURE(w->shape() == Shape({E, E}) && w->is_cuda(), "attention_cudnn: projection weights must be (%lld, %lld) "
               "on the device, got %s", (long long)E, (long long)E, w->shape_str().c_str());
    for (const Tensor* b : {&bq, &bk, &bv})
        ENSURE(b->shape() == Shape{E} && b->is_cuda(), "attention_cudnn: projection biases must be (%lld,) on the "
               "device, got %s", (long long)E, b->shape_str().c_str());
    ENSURE(heads > 0 && E % heads == 0, "attention_cudnn: %lld columns do not split into %lld heads", (long long)E,
           (long long)heads);
    ENSURE((int64_t)key_len.size() == B, "attention_cudnn: %zu key lengths for a batch of %lld", key_len.size(),
           (long long)B);
    ENSURE(!(grad_enabled() && (h.needs_grad() || wq.needs_grad() || wk.needs_grad() || wv.needs_grad())),
           "attention_cudnn: inference only (no backward). HINT: use it under NoGrad (the unfused ops train)");
    Tensor out = Tensor::empty({B, L, E}, DType::F32, Device::CUDA);
    cudnn::AttnParams p = {wq.data(), bq.data(), wk.data(), bk.data(), wv.data(), bv.data()};
    cudnn::attention_forward(out.data(), h.data(), p, key_len, (int)L, (int)E, (int)heads,
                             1.0f / std::sqrt((float)(E / heads)));
    return out;
}

std::vector<int> key_prefix_lengths(const Tensor& keep) {
    const Backend* k = op_device("key_prefix_lengths", {keep});
    ENSURE(keep.ndim() == 2, "key_prefix_lengths: keep must be (B, L), got %s", keep.shape_str().c_str());
    check_f32("key_prefix_lengths", keep, "keep");
    const int64_t B = keep.size(0), L = keep.size(1);
    Tensor len = Tensor::empty({B}, DType::I32, device_of(k));
    if (k) VSD_RUN(*k, key_prefix_lengths)(len.i32(), keep.data(), B, L);
    else key_prefix_lengths_cpu(len.i32(), keep.data(), B, L);
    const Tensor h = len.to(Device::CPU);  // B values cross, not the mask
    std::vector<int> out(h.i32(), h.i32() + B);
    if (std::find(out.begin(), out.end(), -1) != out.end()) out.clear();
    return out;
}

}  // namespace vsd
