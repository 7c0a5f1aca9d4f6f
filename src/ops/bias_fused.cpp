// bias_fused.cpp — a linear's bias with the GELU, or with dropout and the residual add, that follow
// it (kernels/bias_fused.h): one launch forward and one backward instead of five or six.
#include "../../kernels/bias_fused.h"
#include "util.h"

namespace vsd {

// the shared checks and the one recorded op; h undefined: the GELU
static Tensor bias_fused(BiasFused op, const char* name, const Tensor& h, const Tensor& z, const Tensor& b, float p,
                         Rng* drop) {
    const Backend* k = op_device(name, {h, z, b});
    check_f32(name, z, "z");
    check_f32(name, b, "bias");
    ENSURE(z.ndim() >= 1 && b.ndim() == 1 && b.size(0) == z.size(-1), "%s: bias %s does not match the last dim of %s", name,
           b.shape_str().c_str(), z.shape_str().c_str());
    if (op == BiasFused::DropoutResidual) {
        check_f32(name, h, "residual");
        ENSURE(h.shape() == z.shape(), "%s: residual %s and input %s differ", name, h.shape_str().c_str(), z.shape_str().c_str());
    }
    ENSURE(p >= 0.0f && p < 1.0f, "%s: dropout p must be in [0, 1), got %g", name, p);
    const int64_t n = b.size(0), rows = n ? z.numel() / n : 0;
    const float pd = drop ? p : 0.0f;  // dropout only when training (a generator given): one draw, as the dropout op
    const uint64_t seed = pd > 0.0f ? drop->next_u64() : 0;
    const float* hp = h.defined() ? h.data() : nullptr;
    Tensor y = Tensor::empty(z.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, bias_fused_forward)(op, y.data(), z.data(), b.data(), hp, rows, n, pd, seed);
    else bias_fused_forward_cpu(op, y.data(), z.data(), b.data(), hp, rows, n, pd, seed);
    record(name, {h, z, b}, y, [op, h, z, b, y, rows, n, pd, seed, k]() mutable {
        float* dz = z.needs_grad() ? z.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        float* dh = h.needs_grad() ? h.grad() : nullptr;
        if (k) VSD_RUN(*k, bias_fused_backward)(op, dz, db, dh, y.grad(), z.data(), b.data(), rows, n, pd, seed);
        else bias_fused_backward_cpu(op, dz, db, dh, y.grad(), z.data(), b.data(), rows, n, pd, seed);
    });
    return y;
}

Tensor bias_gelu(const Tensor& z, const Tensor& b) {
    return bias_fused(BiasFused::Gelu, "bias_gelu", Tensor(), z, b, 0.0f, nullptr);
}

Tensor bias_dropout_add(const Tensor& h, const Tensor& z, const Tensor& b, float p, Rng* drop) {
    return bias_fused(BiasFused::DropoutResidual, "bias_dropout_add", h, z, b, p, drop);
}

}  // namespace vsd
