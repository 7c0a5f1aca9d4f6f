// batchnorm.cpp — BatchNorm1d with running statistics (kernels/batchnorm.h).
#include "../../kernels/batchnorm.h"
#include "util.h"

namespace vsd {

Tensor batchnorm1d(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                   bool training, float momentum, float eps) {
    const Backend* k = op_device("batchnorm1d", {x, w, b, running_mean, running_var});
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
        VSD_RUN(*k, batchnorm_forward)(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), running_mean.data(),
                             running_var.data(), N, C, training, momentum, eps);
    else
        batchnorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), running_mean.data(),
                              running_var.data(), N, C, training, momentum, eps);
    record("batchnorm1d", {x, w, b}, y, [x, w, b, y, mean, rstd, N, C, training, k]() mutable {
        float* dx = x.needs_grad() ? x.grad() : nullptr;
        float* dw = w.needs_grad() ? w.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) VSD_RUN(*k, batchnorm_backward)(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
        else batchnorm_backward_cpu(dx, dw, db, y.grad(), x.data(), mean.data(), rstd.data(), w.data(), N, C, training);
    });
    return y;
}

}  // namespace vsd
