// l2norm.cpp — x / (||x|| + eps) along the last dim (kernels/l2norm.h).
#include "../../kernels/l2norm.h"
#include "util.h"

namespace vsd {

Tensor l2norm(const Tensor& x, float eps) {
    const Backend* k = op_device("l2norm", {x});
    check_f32("l2norm", x, "input");
    ENSURE(x.ndim() >= 1, "l2norm: needs at least 1 dim, got %s", x.shape_str().c_str());
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k)), norm = Tensor::empty({rows}, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, l2norm_forward)(y.data(), norm.data(), x.data(), rows, n, eps, kernel_version(2));
    else l2norm_forward_cpu(y.data(), norm.data(), x.data(), rows, n, eps);
    record("l2norm", {x}, y, [x, y, norm, rows, n, eps, k]() mutable {
        if (k) VSD_RUN(*k, l2norm_backward)(x.grad(), y.grad(), x.data(), norm.data(), rows, n, eps);
        else l2norm_backward_cpu(x.grad(), y.grad(), x.data(), norm.data(), rows, n, eps);
    });
    return y;
}

Tensor unit_rows(const Tensor& x, double eps) {
    const Backend* k = op_device("unit_rows", {x});
    check_f32("unit_rows", x, "input");
    ENSURE(x.ndim() >= 1, "unit_rows: needs at least 1 dim, got %s", x.shape_str().c_str());
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, unit_rows)(y.data(), x.data(), rows, n, eps);
    else unit_rows_cpu(y.data(), x.data(), rows, n, eps);
    return y;
}

}  // namespace vsd
