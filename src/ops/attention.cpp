// attention.cpp — fused multi-head attention: ours (training and inference), or cuDNN's (inference; kernels/attention.h, kernels/cudnn.h).
#include "../../kernels/attention.h"
#include "../../kernels/cudnn.h"
#include "util.h"

#include <algorithm>
#include <cmath>

namespace vsd {

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep, int64_t heads, float p, Rng* drop,
                 const Tensor& bq, const Tensor& bk, const Tensor& bv) {
    const Backend* kt = op_device("attention", {q, k, v, bq, bk, bv});
    ENSURE(q.ndim() == 3 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention: q %s, k %s and v %s must be the same (B, L, H)", q.shape_str().c_str(), k.shape_str().c_str(),
           v.shape_str().c_str());
    for (const Tensor* t : {&q, &k, &v}) check_f32("attention", *t, "q, k, v");
    const int64_t B = q.size(0), L = q.size(1), H = q.size(2);
    ENSURE(heads > 0 && H % heads == 0, "attention: %lld columns do not split into %lld heads", (long long)H, (long long)heads);
    ENSURE(p >= 0.0f && p < 1.0f, "attention: dropout p must be in [0, 1), got %g", p);
    const bool biased = bq.defined() || bk.defined() || bv.defined();
    if (biased)
        for (const Tensor* b : {&bq, &bk, &bv})
            ENSURE(b->defined() && b->shape() == Shape{H} && b->dtype() == DType::F32,
                   "attention: the biases must be three float (%lld,) tensors, got %s", (long long)H,
                   b->defined() ? b->shape_str().c_str() : "none");
    Tensor kp;
    if (keep.defined()) {
        ENSURE(keep.shape() == Shape({B, L}), "attention: keep must be (%lld, %lld), got %s", (long long)B, (long long)L,
               keep.shape_str().c_str());
        kp = float_mask_on(keep, q.device());
    }
    AttnArgs a;
    a.B = B, a.L = L, a.A = heads, a.d = H / heads;
    a.scale = 1.0f / std::sqrt((float)a.d);
    // dropout on the probabilities only when training (a generator given): one draw, as the
    // unfused path's dropout op makes, so both drop the same elements
    a.p = drop ? p : 0.0f;
    a.seed = a.p > 0.0f ? drop->next_u64() : 0;
    if (biased) a.bq = bq.data(), a.bk = bk.data(), a.bv = bv.data();
    const bool train = any_needs_grad({q, k, v, bq, bk, bv});
    Tensor out = Tensor::empty(q.shape(), DType::F32, device_of(kt));
    Tensor P = train ? Tensor::empty({B, heads, L, L}, DType::F32, device_of(kt)) : Tensor();  // for the backward
    const float* keep_p = kp.defined() ? kp.data() : nullptr;
    float* Pp = train ? P.data() : nullptr;
    if (kt) VSD_RUN(*kt, attention_forward)(out.data(), q.data(), k.data(), v.data(), keep_p, Pp, a);
    else attention_forward_cpu(out.data(), q.data(), k.data(), v.data(), keep_p, Pp, a);
    record("attention", {q, k, v, bq, bk, bv}, out, [q, k, v, bq, bk, bv, out, P, a, biased, kt]() mutable {
        Tensor dS = Tensor::empty(P.shape(), DType::F32, device_of(kt));  // scratch
        auto grad_of = [](const Tensor& t) { return t.needs_grad() ? t.grad() : nullptr; };
        const Tensor* x[3] = {&q, &k, &v};
        // without biases: straight into q, k, v's gradients; with them: into scratch first
        Tensor g[3];
        float* dst[3];
        for (int i = 0; i < 3; i++) {
            if (biased) g[i] = Tensor::empty(q.shape(), DType::F32, device_of(kt));
            dst[i] = biased ? g[i].data() : grad_of(*x[i]);
        }
        if (kt) VSD_RUN(*kt, attention_backward)(dst[0], dst[1], dst[2], !biased, out.grad(), q.data(), k.data(), v.data(),
                                                 P.data(), dS.data(), a);
        else attention_backward_cpu(dst[0], dst[1], dst[2], !biased, out.grad(), q.data(), k.data(), v.data(), P.data(),
                                    dS.data(), a);
        if (!biased) return;
        const AttnBiasGrads t = {{grad_of(q), grad_of(k), grad_of(v)}, {grad_of(bq), grad_of(bk), grad_of(bv)},
                                 {g[0].data(), g[1].data(), g[2].data()}};
        if (kt) VSD_RUN(*kt, attention_bias_grads)(t, a.B * a.L, q.size(2));
        else attention_bias_grads_cpu(t, a.B * a.L, q.size(2));
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
