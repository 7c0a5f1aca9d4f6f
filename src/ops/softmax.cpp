// softmax.cpp — softmax and log_softmax over the last dim, with an optional keep-mask (kernels/softmax.h).
#include "../../kernels/softmax.h"
#include "util.h"

namespace vsd {

static Tensor softmax_impl(const char* name, const Tensor& x, const Tensor& mask, bool log) {
    const Backend* k = op_device(name, {x});  // the mask may be on either side: it follows x
    check_f32(name, x, "input");
    ENSURE(x.ndim() >= 1, "%s: needs at least 1 dim, got %s", name, x.shape_str().c_str());
    Tensor m;
    if (mask.defined()) {
        ENSURE(mask.shape() == x.shape(), "%s: mask %s must have the input's shape %s", name, mask.shape_str().c_str(),
              x.shape_str().c_str());
        m = float_mask_on(mask, x.device());
    }
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    const float* mp = m.defined() ? m.data() : nullptr;
    if (k) VSD_RUN(*k, softmax_forward)(y.data(), x.data(), mp, rows, n, log, kernel_version(2));
    else softmax_forward_cpu(y.data(), x.data(), mp, rows, n, log);
    record(name, {x}, y, [x, y, m, rows, n, log, k]() mutable {
        const float* mp = m.defined() ? m.data() : nullptr;
        if (k) VSD_RUN(*k, softmax_backward)(x.grad(), y.grad(), y.data(), mp, rows, n, log);
        else softmax_backward_cpu(x.grad(), y.grad(), y.data(), mp, rows, n, log);
    });
    return y;
}

Tensor softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("softmax", x, mask, false); }

Tensor log_softmax(const Tensor& x, const Tensor& mask) { return softmax_impl("log_softmax", x, mask, true); }

}  // namespace vsd
