// nn.cpp — softmax, layernorm, batchnorm, dropout, embedding, l2norm (kernels/softmax, kernels/norm,
// kernels/index).
#include "../../kernels/index.h"
#include "../../kernels/norm.h"
#include "../../kernels/softmax.h"
#include "../../kernels/attention.h"
#include "../../kernels/cudnn.h"
#include "util.h"

namespace vsd {

static Tensor softmax_impl(const char* name, const Tensor& x, const Tensor& mask, bool log) {
    const KernelTable* k = op_device(name, {x});  // the mask may be on either side: it follows x
    check_f32(name, x, "input");
    ENSURE(x.ndim() >= 1, "%s: needs at least 1 dim, got %s", name, x.shape_str().c_str());
    Tensor m;
    if (mask.defined()) {
        ENSURE(mask.shape() == x.shape(), "%s: mask %s must have the input's shape %s", name, mask.shape_str().c_str(),
              x.shape_str().c_str());
        m = mask.dtype() == DType::F32 && mask.device() == x.device() ? mask.detach() : to_float(mask).to(x.device());
    }
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    const float* mp = m.defined() ? m.data() : nullptr;
    if (k) k->softmax_forward(y.data(), x.data(), mp, rows, n, log, 2);
    else softmax_forward_cpu(y.data(), x.data(), mp, rows, n, log);
    record(name, {x}, y, [x, y, m, rows, n, log, k]() mutable {
        const float* mp = m.defined() ? m.data() : nullptr;
        if (k) k->softmax_backward(x.grad(), y.grad(), y.data(), mp, rows, n, log);
        else softmax_backward_cpu(x.grad(), y.grad(), y.data(), mp, rows, n, log);
    });
    return y;
}

Tensor softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("softmax", x, mask, false); }
Tensor log_softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("log_softmax", x, mask, true); }

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
    const KernelTable* k = op_device("layernorm", {x, w, b});
    check_f32("layernorm", x, "input");
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    ENSURE(w.shape() == Shape{n} && b.shape() == Shape{n}, "layernorm: weight %s and bias %s must be (%lld,) for input %s",
          w.shape_str().c_str(), b.shape_str().c_str(), (long long)n, x.shape_str().c_str());
    const Device dev = device_of(k);
    Tensor y = Tensor::empty(x.shape(), DType::F32, dev), mean = Tensor::empty({rows}, DType::F32, dev),
           rstd = Tensor::empty({rows}, DType::F32, dev);
    if (k) k->layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, eps);
    else layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, eps);
    record("layernorm", {x, w, b}, y, [x, w, b, y, mean, rstd, rows, n, k]() mutable {
        float* dx = x.needs_grad() ? x.grad() : nullptr;
        float* dw = w.needs_grad() ? w.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) k->layernorm_backward(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
        else layernorm_backward_cpu(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
    });
    return y;
}

Tensor batchnorm1d(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                   bool training, float momentum, float eps) {
    const KernelTable* k = op_device("batchnorm1d", {x, w, b, running_mean, running_var});
    ENSURE(x.ndim() == 2, "batchnorm1d: input must be (N, C), got %s", x.shape_str().c_str());
    const int64_t N = x.size(0), C = x.size(1);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&w, &b, &running_mean, &running_var})
        ENSURE(t->shape() == Shape{C}, "batchnorm1d: parameters and running statistics must be (%lld,), got %s", (long long)C,
              t->shape_str().c_str());
    ENSURE(!training || N > 1, "batchnorm1d: training needs more than 1 row per channel, got input %s. HINT: use a "
          "batch larger than 1", x.shape_str().c_str());
    const Device dev = device_of(k);
    Tensor y = Tensor::empty(x.shape(), DType::F32, dev), mean = Tensor::empty({C}, DType::F32, dev),
           rstd = Tensor::empty({C}, DType::F32, dev);
    if (k)
        k->batchnorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), running_mean.data(),
                             running_var.data(), N, C, training, momentum, eps);
    else
        batchnorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), running_mean.data(),
                              running_var.data(), N, C, training, momentum, eps);
    record("batchnorm1d", {x, w, b}, y, [x, w, b, y, mean, rstd, N, C, training, k]() mutable {
        float* dx = x.needs_grad() ? x.grad() : nullptr;
        float* dw = w.needs_grad() ? w.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) k->batchnorm_backward(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
        else batchnorm_backward_cpu(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
    });
    return y;
}

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
    const KernelTable* k = op_device("dropout", {x});
    ENSURE(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got %g", p);
    if (!training || p == 0.0f) return x;  // identity: the same tensor, gradient flows unchanged
    // keep each element with probability 1-p, scaled by 1/(1-p) so the expectation is unchanged.
    // One draw from rng seeds a counter-based hash (kernels/elementwise_ops.h: dropout_scale), so
    // the same seed drops the same elements on the CPU and the device, and the backward recomputes
    // the mask instead of keeping it.
    const uint64_t seed = rng.next_u64();
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) k->dropout_forward(y.data(), x.data(), x.numel(), p, seed);
    else dropout_forward_cpu(y.data(), x.data(), x.numel(), p, seed);
    record("dropout", {x}, y, [x, y, k, p, seed]() mutable {
        if (k) k->dropout_backward(x.grad(), y.grad(), x.numel(), p, seed);
        else dropout_backward_cpu(x.grad(), y.grad(), x.numel(), p, seed);
    });
    return y;
}

Tensor embedding(const Tensor& ids, const Tensor& table) {
    const KernelTable* k = op_device("embedding", {table});  // ids may live on either side
    ENSURE(ids.dtype() != DType::F32, "embedding: ids must be an integer tensor, got float32 %s", ids.shape_str().c_str());
    ENSURE(table.ndim() == 2, "embedding: table must be (V, D), got %s", table.shape_str().c_str());
    ENSURE(ids.ndim() < 4, "embedding: ids can have at most 3 dims, got %s", ids.shape_str().c_str());
    const int64_t V = table.size(0), D = table.size(1), rows = ids.numel();
    std::vector<int64_t> iv = index_values("embedding", ids.to(Device::CPU), V);  // range-checked on the host
    Shape os = ids.shape();
    os.push_back(D);
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    Tensor dev_ids;
    if (k) {
        dev_ids = Tensor::from_i64({rows}, iv).to(Device::CUDA);
        k->embedding_forward(y.data(), table.data(), dev_ids.i64(), rows, D);
    } else {
        embedding_forward_cpu(y.data(), table.data(), iv.data(), rows, D);
    }
    record("embedding", {table}, y, [table, y, iv, dev_ids, rows, D, k]() mutable {
        if (k) k->embedding_backward(table.grad(), y.grad(), dev_ids.i64(), rows, D);
        else embedding_backward_cpu(table.grad(), y.grad(), iv.data(), rows, D);
    });
    return y;
}

Tensor l2norm(const Tensor& x, float eps) {
    const KernelTable* k = op_device("l2norm", {x});
    check_f32("l2norm", x, "input");
    ENSURE(x.ndim() >= 1, "l2norm: needs at least 1 dim, got %s", x.shape_str().c_str());
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k)), norm = Tensor::empty({rows}, DType::F32, device_of(k));
    if (k) k->l2norm_forward(y.data(), norm.data(), x.data(), rows, n, eps, 2);
    else l2norm_forward_cpu(y.data(), norm.data(), x.data(), rows, n, eps);
    record("l2norm", {x}, y, [x, y, norm, rows, n, eps, k]() mutable {
        if (k) k->l2norm_backward(x.grad(), y.grad(), x.data(), norm.data(), rows, n, eps);
        else l2norm_backward_cpu(x.grad(), y.grad(), x.data(), norm.data(), rows, n, eps);
    });
    return y;
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep, int64_t heads) {
    const KernelTable* kt = op_device("attention", {q, k, v});
    ENSURE(q.ndim() == 3 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention: q %s, k %s and v %s must be the same (B, L, H)", q.shape_str().c_str(), k.shape_str().c_str(),
           v.shape_str().c_str());
    const int64_t B = q.size(0), L = q.size(1), H = q.size(2);
    ENSURE(heads > 0 && H % heads == 0, "attention: %lld columns do not split into %lld heads", (long long)H, (long long)heads);
    ENSURE(!(grad_enabled() && (q.needs_grad() || k.needs_grad() || v.needs_grad())),
           "attention: the fused kernel has no backward. HINT: use it under NoGrad (the unfused ops train)");
    Tensor kp;
    if (keep.defined()) {
        ENSURE(keep.shape() == Shape({B, L}), "attention: keep must be (%lld, %lld), got %s", (long long)B, (long long)L,
               keep.shape_str().c_str());
        kp = to_float(keep).to(q.device());
    }
    const int64_t d = H / heads;
    const float scale = 1.0f / std::sqrt((float)d);
    Tensor out = Tensor::empty(q.shape(), DType::F32, device_of(kt));
    const float* keep_p = kp.defined() ? kp.data() : nullptr;
    if (kt) kt->attention_forward(out.data(), q.data(), k.data(), v.data(), keep_p, B, L, heads, d, scale);
    else attention_forward_cpu(out.data(), q.data(), k.data(), v.data(), keep_p, B, L, heads, d, scale);
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

}  // namespace vsd
