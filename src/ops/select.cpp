// select.cpp — masked_fill and where (kernels/select.h).
#include "../../kernels/select.h"
#include "util.h"

namespace vsd {

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
    const Backend* k = op_device("masked_fill", {x});  // the mask follows x
    check_f32("masked_fill", x, "input");
    Shape os;
    Broadcast bc = make_broadcast("masked_fill", x.shape(), mask.shape(), &os);
    ENSURE(os == x.shape(), "masked_fill: mask %s must broadcast to the input's shape %s", mask.shape_str().c_str(),
          x.shape_str().c_str());
    const Tensor m = float_mask_on(mask, x.device());
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, masked_fill)(y.data(), x.data(), m.data(), value, bc);
    else masked_fill_cpu(y.data(), x.data(), m.data(), value, bc);
    record("masked_fill", {x}, y, [x, y, m, bc, k]() mutable {
        // dx += dy where the mask is 0
        if (k) VSD_RUN(*k, masked_fill_backward)(x.grad(), y.grad(), m.data(), bc);
        else masked_fill_backward_cpu(x.grad(), y.grad(), m.data(), bc);
    });
    return y;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    const Backend* k = op_device("where", {a, b});  // the condition follows a and b
    check_f32("where", a, "a");
    check_f32("where", b, "b");
    ENSURE(a.shape() == b.shape(), "where: a %s and b %s must have the same shape", a.shape_str().c_str(),
          b.shape_str().c_str());
    Shape os;
    Broadcast bc = make_broadcast("where", a.shape(), cond.shape(), &os);
    ENSURE(os == a.shape(), "where: condition %s must broadcast to %s", cond.shape_str().c_str(), a.shape_str().c_str());
    const Tensor c = float_mask_on(cond, a.device());
    Tensor y = Tensor::empty(a.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, where)(y.data(), c.data(), a.data(), b.data(), bc);
    else where_cpu(y.data(), c.data(), a.data(), b.data(), bc);
    record("where", {a, b}, y, [a, b, y, c, bc, k]() mutable {
        if (!k)
            return where_backward_cpu(a.needs_grad() ? a.grad() : nullptr, b.needs_grad() ? b.grad() : nullptr, y.grad(),
                                      c.data(), bc);
        // da += where(c, dy, 0), db += where(c, 0, dy)
        const int64_t n = a.numel();
        Tensor zero = Tensor::zeros(a.shape(), DType::F32, Device::CUDA), tmp = Tensor::empty(a.shape(), DType::F32, Device::CUDA);
        if (a.needs_grad()) {
            VSD_RUN(*k, where)(tmp.data(), c.data(), y.grad(), zero.data(), bc);
            k->accumulate(a.grad(), tmp.data(), n);
        }
        if (b.needs_grad()) {
            VSD_RUN(*k, where)(tmp.data(), c.data(), zero.data(), y.grad(), bc);
            k->accumulate(b.grad(), tmp.data(), n);
        }
    });
    return y;
}

}  // namespace vsd
