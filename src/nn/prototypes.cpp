#include "prototypes.h"

#include <cmath>
#include <vector>

#include "../data/npy.h"

namespace vsd {

Prototypes::Prototypes(const Tensor& centroids) : source("<tensor>") {
    ENSURE(centroids.ndim() == 2 && centroids.size(0) > 0, "prototypes must be (K, E), got %s", centroids.shape_str().c_str());
    P = unit_rows(centroids);
}

Prototypes::Prototypes(const std::string& path) : source(path) {
    NpyArray a = npy_open(path);
    ENSURE_HINT(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0, "make it with `make prototypes`",
                "%s: expected centroids (K, E), found %s", path.c_str(), a.shape_str().c_str());
    Tensor c = a.to_tensor();
    const std::string bad = describe_nonfinite(c);  // row = centroid
    ENSURE_HINT(bad.empty(), "re-create the centroids with `make prototypes`", "%s: a centroid is not finite: %s",
                path.c_str(), bad.c_str());
    P = unit_rows(c);
}

Tensor Prototypes::loss(const Tensor& V, const Tensor& T, const ProtoOptions& o) const {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape() && V.size(1) == P.size(1),
           "prototype loss: V %s and T %s must be (B, %lld) like the prototypes %s", V.shape_str().c_str(),
           T.shape_str().c_str(), (long long)P.size(1), P.shape_str().c_str());
    // 1. prototype scores                                           (B, K)
    if (P.device() != V.device()) P = P.to(V.device());  // the frozen centroids follow the model
    Tensor sv = matmul(V, P, false, true), st = matmul(T, P, false, true);
    // 2. codes from each view, without gradient
    Tensor qv = sinkhorn_codes(sv.detach(), o.sk_epsilon, o.sinkhorn_iterations);
    Tensor qt = sinkhorn_codes(st.detach(), o.sk_epsilon, o.sinkhorn_iterations);
    // 3. swapped prediction: the image view predicts the text's code and vice versa
    return swapped_prediction_from_scores(sv, st, qv, qt, o.proto_temperature);
}

Tensor swapped_prediction_from_scores(const Tensor& sv, const Tensor& st, const Tensor& qv, const Tensor& qt, float tau) {
    const int64_t B = sv.size(0);
    Tensor lv = sum(qt * log_softmax(sv * (1.0f / tau))), lt = sum(qv * log_softmax(st * (1.0f / tau)));
    return (lv + lt) * (-1.0f / (float)B);
}

Tensor swapped_prediction(const Tensor& V, const Tensor& T, const Tensor& P, const Tensor& qv, const Tensor& qt, float tau) {
    return swapped_prediction_from_scores(matmul(V, P, false, true), matmul(T, P, false, true), qv, qt, tau);
}

}  // namespace vsd
