// cdist.cpp — pairwise Euclidean distances (kernels/cdist.h).
#include "../../kernels/cdist.h"
#include "util.h"

namespace vsd {

Tensor cdist(const Tensor& a, const Tensor& b) {
    const Backend* k = op_device("cdist", {a, b});
    check_f32("cdist", a, "a");
    check_f32("cdist", b, "b");
    ENSURE(a.ndim() == 2 && b.ndim() == 2 && a.size(1) == b.size(1),
          "cdist: expects a (N, D) and b (M, D), got a %s and b %s", a.shape_str().c_str(), b.shape_str().c_str());
    const int64_t N = a.size(0), M = b.size(0), D = a.size(1);
    Tensor y = Tensor::empty({N, M}, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, cdist)(y.data(), a.data(), b.data(), N, M, D);
    else cdist_forward_cpu(y.data(), a.data(), b.data(), N, M, D);
    record("cdist", {a, b}, y, [a, b, y, N, M, D, k]() mutable {
        float* da = a.needs_grad() ? a.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) VSD_RUN(*k, cdist_backward)(da, db, y.grad(), y.data(), a.data(), b.data(), N, M, D);
        else cdist_backward_cpu(da, db, y.grad(), y.data(), a.data(), b.data(), N, M, D);
    });
    return y;
}

}  // namespace vsd
