// cube.cpp — y = x^3 as a differentiable op: the worked example of src/core/tape.h.
#include "../../kernels/cube.h"
#include "util.h"

namespace vsd {

Tensor cube(const Tensor& x) {
    const Backend* k = op_device("cube", {x});  // null: the inputs are on the CPU
    check_f32("cube", x, "input");
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, cube_forward)(y.data(), x.data(), x.numel());  // the kernel of x's backend
    else cube_forward_cpu(y.data(), x.data(), x.numel());
    record("cube", {x}, y, [x, y, k]() mutable {  // runs during backward(); y.grad() is dL/dy
        if (!x.needs_grad()) return;
        if (k) VSD_RUN(*k, cube_backward)(x.grad(), y.grad(), x.data(), x.numel());
        else cube_backward_cpu(x.grad(), y.grad(), x.data(), x.numel());
    });
    return y;
}

}  // namespace vsd
