// dropout.cpp — inverted dropout; the mask is a hash of (seed, index), never stored (kernels/dropout.h).
#include "../../kernels/dropout.h"
#include "util.h"

namespace vsd {

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
    const Backend* k = op_device("dropout", {x});
    ENSURE(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got %g", p);
    if (!training || p == 0.0f) return x;  // identity: the same tensor, gradient flows unchanged
    // keep each element with probability 1-p, scaled by 1/(1-p) so the expectation is unchanged.
    // One draw from rng seeds a counter-based hash (kernels/elementwise_ops.h: dropout_scale), so
    // the same seed drops the same elements on the CPU and the device, and the backward recomputes
    // the mask instead of keeping it.
    const uint64_t seed = rng.next_u64();
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, dropout_forward)(y.data(), x.data(), x.numel(), p, seed);
    else dropout_forward_cpu(y.data(), x.data(), x.numel(), p, seed);
    record("dropout", {x}, y, [x, y, k, p, seed]() mutable {
        if (k) VSD_RUN(*k, dropout_backward)(x.grad(), y.grad(), x.numel(), p, seed);
        else dropout_backward_cpu(x.grad(), y.grad(), x.numel(), p, seed);
    });
    return y;
}

}  // namespace vsd
