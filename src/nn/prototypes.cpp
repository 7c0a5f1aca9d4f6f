#include "prototypes.h"

#include <dirent.h>

#include <cmath>
#include <vector>

#include "../data/npy.h"

namespace vsd {

static Tensor row_normalise(const Tensor& c) {
    // F.normalize(P, dim=1): p / max(||p||, 1e-12)
    Tensor p = c.clone();
    const int64_t K = p.size(0), E = p.size(1);
    for (int64_t k = 0; k < K; k++) {
        double s = 0;
        for (int64_t e = 0; e < E; e++) s += (double)p.data()[k * E + e] * p.data()[k * E + e];
        const float inv = (float)(1.0 / std::max(std::sqrt(s), 1e-12));
        for (int64_t e = 0; e < E; e++) p.data()[k * E + e] *= inv;
    }
    return p;
}

Prototypes::Prototypes(const Tensor& centroids) : source("<tensor>") {
    ENSURE(centroids.ndim() == 2 && centroids.size(0) > 0, "prototypes must be (K, E), got %s", centroids.shape_str().c_str());
    P = row_normalise(centroids);
}

Prototypes::Prototypes(const std::string& path) : source(path) {
    NpyArray a = npy_open(path);
    ENSURE_HINT(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0, "make it with `make prototypes`",
                "%s: expected centroids (K, E), found %s", path.c_str(), a.shape_str().c_str());
    Tensor c = a.to_tensor();
    for (int64_t i = 0; i < c.numel(); i++)
        ENSURE_HINT(std::isfinite(c.data()[i]), "re-create the centroids with `make prototypes`",
                    "%s: centroid %lld, column %lld is %g (not finite)", path.c_str(), (long long)(i / c.size(1)),
                    (long long)(i % c.size(1)), c.data()[i]);
    P = row_normalise(c);
}

Tensor sinkhorn_codes(const Tensor& scores_in, float eps, int iterations) {
    const Tensor scores = scores_in.to(Device::CPU);  // a few iterations over (B, K): done on the host, in double
    const int64_t B = scores.size(0), K = scores.size(1);
    std::vector<double> Q(K * B);  // Q[k][b]
    // exp(S / eps) can reach e^20 (|S| <= 1, eps 0.05): fine, and we are in double anyway
    double total = 0;
    for (int64_t k = 0; k < K; k++)
        for (int64_t b = 0; b < B; b++) total += Q[k * B + b] = std::exp((double)scores.data()[b * K + k] / eps);
    for (double& q : Q) q /= total;
    for (int it = 0; it < iterations; it++) {
        for (int64_t k = 0; k < K; k++) {  // each prototype gets total mass 1/K
            double r = 0;
            for (int64_t b = 0; b < B; b++) r += Q[k * B + b];
            for (int64_t b = 0; b < B; b++) Q[k * B + b] /= r * K;
        }
        for (int64_t b = 0; b < B; b++) {  // each sample gets total mass 1/B
            double c = 0;
            for (int64_t k = 0; k < K; k++) c += Q[k * B + b];
            for (int64_t k = 0; k < K; k++) Q[k * B + b] /= c * B;
        }
    }
    Tensor out = Tensor::empty({B, K});
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < K; k++) out.data()[b * K + k] = (float)(Q[k * B + b] * B);
    return out.to(scores_in.device());
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

std::string find_prototype_file(const std::string& proto_path, const std::string& dataset, int64_t K) {
    const std::string prefix = dataset + "_minicpm_kmeans_centroids_";
    // K = 0: the release's file when it is there (f30k 896, coco 2560: the sizes the reference hard-codes)
    if (K == 0 && (dataset == "f30k" || dataset == "coco")) {
        std::string p = proto_path + "/" + prefix + (dataset == "f30k" ? "896" : "2560") + ".npy";
        if (FILE* f = std::fopen(p.c_str(), "rb")) { std::fclose(f); return p; }
    }
    if (K > 0) {
        std::string p = proto_path + "/" + prefix + std::to_string(K) + ".npy";
        if (FILE* f = std::fopen(p.c_str(), "rb")) { std::fclose(f); return p; }
        FATAL("%s: missing prototype centroids. HINT: `make prototypes DATASET=%s K=%lld` computes them, or copy the "
              "release's proto_data/ files there (or pass --proto_path)", p.c_str(), dataset.c_str(), (long long)K);
    }
    std::vector<std::string> found;
    if (DIR* d = opendir(proto_path.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            // <prefix><digits>.npy only: the release's proto_data/ also holds *_896_pca512.npy (for CLIP)
            if (n.rfind(prefix, 0) != 0 || n.size() <= prefix.size() + 4 || n.substr(n.size() - 4) != ".npy") continue;
            const std::string k = n.substr(prefix.size(), n.size() - prefix.size() - 4);
            if (k.find_first_not_of("0123456789") == std::string::npos) found.push_back(n);
        }
        closedir(d);
    }
    ENSURE_HINT(found.size() == 1, "pass --num_prototypes K, or make them with `make prototypes`",
                "%s: expected exactly one %s<K>.npy, found %zu", proto_path.c_str(), prefix.c_str(), found.size());
    return proto_path + "/" + found[0];
}

}  // namespace vsd
