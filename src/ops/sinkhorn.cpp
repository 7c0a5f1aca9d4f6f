// sinkhorn.cpp — VSD's Sinkhorn-Knopp codes, on the scores' device (kernels/sinkhorn.h).
// No gradient: the codes are targets.
#include "../../kernels/sinkhorn.h"
#include "util.h"

namespace vsd {

Tensor sinkhorn_codes(const Tensor& scores, float eps, int iterations) {
    const Backend* k = op_device("sinkhorn_codes", {scores});
    ENSURE(scores.ndim() == 2, "sinkhorn_codes: scores must be (B, K), got %s", scores.shape_str().c_str());
    check_f32("sinkhorn_codes", scores, "the scores");
    ENSURE(eps > 0 && iterations >= 0, "sinkhorn_codes: epsilon %g must be > 0 and iterations %d >= 0", eps, iterations);
    const int64_t B = scores.size(0), K = scores.size(1);
    const Device dev = device_of(k);
    Tensor q = Tensor::empty({B, K}, DType::F32, dev);
    Tensor Q = Tensor::empty({K * B}, DType::I64, dev);  // K x B doubles, held as 8-byte int64 storage
    double* Qd = reinterpret_cast<double*>(Q.i64());
    if (k) VSD_RUN(*k, sinkhorn)(q.data(), Qd, scores.data(), B, K, eps, iterations);
    else sinkhorn_cpu(q.data(), Qd, scores.data(), B, K, eps, iterations);
    return q;
}

}  // namespace vsd
