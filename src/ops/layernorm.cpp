// layernorm.cpp — LayerNorm over the last dim (kernels/layernorm.h).
#include "../../kernels/layernorm.h"
#include "util.h"

namespace vsd {

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
    const Backend* k = op_device("layernorm", {x, w, b});
    check_f32("layernorm", x, "input");
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    ENSURE(w.shape() == Shape{n} && b.shape() == Shape{n}, "layernorm: weight %s and bias %s must be (%lld,) for input %s",
          w.shape_str().c_str(), b.shape_str().c_str(), (long long)n, x.shape_str().c_str());
    const Device dev = device_of(k);
    Tensor y = Tensor::empty(x.shape(), DType::F32, dev), mean = Tensor::empty({rows}, DType::F32, dev),
           rstd = Tensor::empty({rows}, DType::F32, dev);
    if (k) VSD_RUN(*k, layernorm_forward)(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, eps);
    else layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, eps);
    record("layernorm", {x, w, b}, y, [x, w, b, y, mean, rstd, rows, n, k]() mutable {
        float* dx = x.needs_grad() ? x.grad() : nullptr;
        float* dw = w.needs_grad() ? w.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) VSD_RUN(*k, layernorm_backward)(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
        else layernorm_backward_cpu(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
    });
    return y;
}

}  // namespace vsd
