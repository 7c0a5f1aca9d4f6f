// patchify.cpp — images to patch rows as a differentiable op (kernels/patchify.h).
#include "../../kernels/patchify.h"
#include "util.h"

namespace vsd {

Tensor patchify(const Tensor& x, int64_t p) {
    const Backend* k = op_device("patchify", {x});
    check_f32("patchify", x, "images");
    ENSURE(x.ndim() == 4, "patchify: expected images (B, C, H, W), got %s", x.shape_str().c_str());
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    ENSURE_HINT(p > 0 && H % p == 0 && W % p == 0, "resize or crop the images to a multiple of the patch size",
                "patchify: %lld x %lld images are not whole %lld x %lld patches", (long long)H, (long long)W,
                (long long)p, (long long)p);
    Tensor y = Tensor::empty({B, (H / p) * (W / p), C * p * p}, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, patchify_forward)(y.data(), x.data(), B, C, H, W, p);
    else patchify_forward_cpu(y.data(), x.data(), B, C, H, W, p);
    record("patchify", {x}, y, [x, y, k, B, C, H, W, p]() mutable {
        if (!x.needs_grad()) return;
        if (k) VSD_RUN(*k, patchify_backward)(x.grad(), y.grad(), B, C, H, W, p);
        else patchify_backward_cpu(x.grad(), y.grad(), B, C, H, W, p);
    });
    return y;
}

}  // namespace vsd
