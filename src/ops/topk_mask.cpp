// topk_mask.cpp — HREM's top-k connection mask, made on the scores' device (kernels/topk_mask.h).
// No gradient: the mask only selects.
#include "../../kernels/topk_mask.h"
#include "util.h"

#include <algorithm>

namespace vsd {

Tensor topk_mask(const Tensor& s, int64_t k) {
    const Backend* bk = op_device("topk_mask", {s});
    ENSURE(s.ndim() == 2, "topk_mask: scores must be (N, M), got %s", s.shape_str().c_str());
    check_f32("topk_mask", s, "the scores");
    const int64_t N = s.size(0), M = s.size(1);
    k = std::min(std::max<int64_t>(k, 1), std::max<int64_t>(M, 1));
    Tensor c = Tensor::empty({N, M}, DType::F32, device_of(bk));
    if (bk) VSD_RUN(*bk, topk_mask)(c.data(), s.data(), N, M, k);
    else topk_mask_cpu(c.data(), s.data(), N, M, k);
    return c;
}

}  // namespace vsd
