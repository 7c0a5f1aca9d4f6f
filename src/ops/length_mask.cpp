// length_mask.cpp — the padding mask of a batch, made on the lengths' device (kernels/length_mask.h).
// No gradient: it is a constant of the batch.
#include "../../kernels/length_mask.h"
#include "util.h"

namespace vsd {

Tensor length_mask(const Tensor& lengths, int64_t N) {
    const Backend* k = op_device("length_mask", {lengths});
    ENSURE(lengths.ndim() <= 1, "length_mask: lengths must be (B,), got %s", lengths.shape_str().c_str());
    ENSURE(N >= 0, "length_mask: negative width %lld", (long long)N);
    const int64_t B = lengths.numel();
    Tensor m = Tensor::empty({B, N}, DType::F32, device_of(k));
    if (k) {
        VSD_RUN(*k, length_mask)(m.data(), device_i64("length_mask", lengths, INT64_MAX).i64(), B, N);
    } else {
        const std::vector<int64_t> len = index_values("length_mask", lengths, INT64_MAX);
        length_mask_cpu(m.data(), len.data(), B, N);
    }
    return m;
}

Tensor causal_mask(int64_t L, const Tensor& like) {
    const Backend* k = op_device("causal_mask", {like});
    ENSURE(L >= 0, "causal_mask: negative length %lld", (long long)L);
    Tensor m = Tensor::empty({L, L}, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, causal_mask)(m.data(), L);
    else causal_mask_cpu(m.data(), L);
    return m;
}

Tensor length_weights(const Tensor& lengths, int64_t N, int64_t cap, bool running_min) {
    const Backend* k = op_device("length_weights", {lengths});
    ENSURE(lengths.ndim() <= 1, "length_weights: lengths must be (B,), got %s", lengths.shape_str().c_str());
    ENSURE(N >= 0 && cap >= 0, "length_weights: width %lld and cap %lld (want both >= 0)", (long long)N,
           (long long)cap);
    const int64_t B = lengths.numel();
    Tensor w = Tensor::empty({B, N}, DType::F32, device_of(k));
    if (k) {
        VSD_RUN(*k, length_weights)(w.data(), device_i64("length_weights", lengths, INT64_MAX).i64(), B, N, cap,
                                    running_min);
    } else {
        const std::vector<int64_t> len = index_values("length_weights", lengths, INT64_MAX);
        length_weights_cpu(w.data(), len.data(), B, N, cap, running_min);
    }
    return w;
}

}  // namespace vsd
