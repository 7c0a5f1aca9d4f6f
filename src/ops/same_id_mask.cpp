// same_id_mask.cpp — the positive pairs of a batch, made on the ids' device
// (kernels/same_id_mask.h). No gradient: a constant of the batch.
#include "../../kernels/same_id_mask.h"
#include "util.h"

namespace vsd {

Tensor same_id_mask(const Tensor& ids, bool repeats) {
    const Backend* k = op_device("same_id_mask", {ids});
    ENSURE(ids.ndim() <= 1, "same_id_mask: ids must be (B,), got %s", ids.shape_str().c_str());
    const int64_t B = ids.numel();
    Tensor m = Tensor::empty({B, B}, DType::F32, device_of(k));
    if (k) {
        VSD_RUN(*k, same_id_mask)(m.data(), device_i64("same_id_mask", ids, INT64_MAX).i64(), B, repeats);
    } else {
        const std::vector<int64_t> v = index_values("same_id_mask", ids, INT64_MAX);
        same_id_mask_cpu(m.data(), v.data(), B, repeats);
    }
    return m;
}

}  // namespace vsd
