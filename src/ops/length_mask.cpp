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

}  // namespace vsd
