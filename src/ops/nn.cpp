// nn.cpp — softmax, layernorm, batchnorm, dropout, embedding, l2norm (kernels/softmax, kernels/norm,
// kernels/index).
#include "../../kernels/index.h"
#include "../../kernels/norm.h"
#include "../../kernels/softmax.h"
#include "util.h"

namespace vsd {

static Tensor softmax_impl(const char* name, const Tensor& x, const Tensor& mask, bool log) {
    check_cpu(name, {x, mask});
    check_f32(name, x, "input");
    ENSURE(x.ndim() >= 1, "%s: needs at least 1 dim, got %s", name, x.shape_str().c_str());
    Tensor m;
    if (mask.defined()) {
        ENSURE(mask.shape() == x.shape(), "%s: mask %s must have the input's shape %s", name, mask.shape_str().c_str(),
              x.shape_str().c_str());
        m = to_float(mask);
    }
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape());
    const float* mp = m.defined() ? m.data() : nullptr;
    softmax_forward_cpu(y.data(), x.data(), mp, rows, n, log);
    record(name, {x}, y, [x, y, m, rows, n, log]() mutable {
        softmax_backward_cpu(x.grad(), y.grad(), y.data(), m.defined() ? m.data() : nullptr, rows, n, log);
    });
    return y;
}

Tensor softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("softmax", x, mask, false); }
Tensor log_softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("log_softmax", x, mask, true); }

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
    check_cpu("layernorm", {x, w, b});
    check_f32("layernorm", x, "input");
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    ENSURE(w.shape() == Shape{n} && b.shape() == Shape{n}, "layernorm: weight %s and bias %s must be (%lld,) for input %s",
          w.shape_str().c_str(), b.shape_str().c_str(), (long long)n, x.shape_str().c_str());
    Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({rows}), rstd = Tensor::empty({rows});
    layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, eps);
    record("layernorm", {x, w, b}, y, [x, w, b, y, mean, rstd, rows, n]() mutable {
        layernorm_backward_cpu(x.needs_grad() ? x.grad() : nullptr, w.needs_grad() ? w.grad() : nullptr,
                               b.needs_grad() ? b.grad() : nullptr, y.grad(), x.data(), mean.data(), rstd.data(),
                               w.data(), rows, n);
    });
    return y;
}

Tensor batchnorm1d(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                   bool training, float momentum, float eps) {
    check_cpu("batchnorm1d", {x, w, b, running_mean, running_var});
    ENSURE(x.ndim() == 2, "batchnorm1d: input must be (N, C), got %s", x.shape_str().c_str());
    const int64_t N = x.size(0), C = x.size(1);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&w, &b, &running_mean, &running_var})
        ENSURE(t->shape() == Shape{C}, "batchnorm1d: parameters and running statistics must be (%lld,), got %s", (long long)C,
              t->shape_str().c_str());
    ENSURE(!training || N > 1, "batchnorm1d: training needs more than 1 row per channel, got input %s. HINT: use a "
          "batch larger than 1", x.shape_str().c_str());
    Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({C}), rstd = Tensor::empty({C});
    batchnorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), running_mean.data(),
                          running_var.data(), N, C, training, momentum, eps);
    record("batchnorm1d", {x, w, b}, y, [x, w, b, y, mean, rstd, N, C, training]() mutable {
        batchnorm_backward_cpu(x.needs_grad() ? x.grad() : nullptr, w.needs_grad() ? w.grad() : nullptr,
                               b.needs_grad() ? b.grad() : nullptr, y.grad(), x.data(), mean.data(), rstd.data(),
                               w.data(), N, C, training);
    });
    return y;
}

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
    check_cpu("dropout", {x});
    ENSURE(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got %g", p);
    if (!training || p == 0.0f) return x;  // identity: the same tensor, gradient flows unchanged
    // keep each element with probability 1-p, scaled by 1/(1-p) so the expectation is unchanged.
    // The mask is drawn serially from rng: the same seed always drops the same elements.
    Tensor scale = Tensor::empty(x.shape());
    float* s = scale.data();
    const float keep = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < x.numel(); i++) s[i] = rng.uniform() < p ? 0.0f : keep;
    Tensor y = Tensor::empty(x.shape());
    dropout_forward_cpu(y.data(), x.data(), s, x.numel());
    record("dropout", {x}, y, [x, y, scale]() mutable {
        dropout_backward_cpu(x.grad(), y.grad(), scale.data(), x.numel());
    });
    return y;
}

Tensor embedding(const Tensor& ids, const Tensor& table) {
    check_cpu("embedding", {ids, table});
    ENSURE(ids.dtype() != DType::F32, "embedding: ids must be an integer tensor, got float32 %s", ids.shape_str().c_str());
    ENSURE(table.ndim() == 2, "embedding: table must be (V, D), got %s", table.shape_str().c_str());
    ENSURE(ids.ndim() < 4, "embedding: ids can have at most 3 dims, got %s", ids.shape_str().c_str());
    const int64_t V = table.size(0), D = table.size(1), rows = ids.numel();
    std::vector<int64_t> iv = index_values("embedding", ids, V);
    Shape os = ids.shape();
    os.push_back(D);
    Tensor y = Tensor::empty(os);
    embedding_forward_cpu(y.data(), table.data(), iv.data(), rows, D);
    record("embedding", {table}, y, [table, y, iv, rows, D]() mutable {
        embedding_backward_cpu(table.grad(), y.grad(), iv.data(), rows, D);
    });
    return y;
}

Tensor l2norm(const Tensor& x, float eps) {
    check_cpu("l2norm", {x});
    check_f32("l2norm", x, "input");
    ENSURE(x.ndim() >= 1, "l2norm: needs at least 1 dim, got %s", x.shape_str().c_str());
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape()), norm = Tensor::empty({rows});
    l2norm_forward_cpu(y.data(), norm.data(), x.data(), rows, n, eps);
    record("l2norm", {x}, y, [x, y, norm, rows, n, eps]() mutable {
        l2norm_backward_cpu(x.grad(), y.grad(), x.data(), norm.data(), rows, n, eps);
    });
    return y;
}

}  // namespace vsd
