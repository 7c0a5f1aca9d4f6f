// relation.cpp — HREM's region-word statistics as an op (kernels/relation.h has the equations).
// Forward only: HREM detaches its fragments, so nothing here records a backward.
#include "../../kernels/gemm.h"
#include "../../kernels/relation.h"
#include "util.h"

namespace vsd {

RegionWordStats region_word_stats(const Tensor& psi_hat, const Tensor& phi_hat, const Tensor& cap_len, int K,
                                  float slope) {
    const Backend* k = op_device("region_word_stats", {psi_hat, phi_hat});  // the lengths may live on either side
    check_f32("region_word_stats", psi_hat, "psi_hat");
    check_f32("region_word_stats", phi_hat, "phi_hat");
    ENSURE(psi_hat.ndim() == 3 && phi_hat.ndim() == 3 && psi_hat.size(2) == phi_hat.size(2),
           "region_word_stats: words %s and regions %s must be (Bt, L, E) and (Bi, R, E)", psi_hat.shape_str().c_str(),
           phi_hat.shape_str().c_str());
    ENSURE(K >= 1 && K <= kRelationMaxK, "region_word_stats: top-k must be in [1, %d], got %d", kRelationMaxK, K);
    const int64_t Bt = psi_hat.size(0), L = psi_hat.size(1), E = psi_hat.size(2), Bi = phi_hat.size(0),
                  R = phi_hat.size(1);
    const std::vector<int64_t> len = index_values("region_word_stats", cap_len.to(Device::CPU), L + 1);
    ENSURE((int64_t)len.size() == Bt, "region_word_stats: %lld caption lengths for %lld captions", (long long)len.size(),
           (long long)Bt);
    const Device dev = device_of(k);
    RegionWordStats o;
    o.mean_t2i = Tensor::empty({Bt, Bi}, DType::F32, dev);
    o.topk_t2i = Tensor::empty({Bt, Bi, K}, DType::F32, dev);
    o.mean_i2t = Tensor::empty({Bi, Bt}, DType::F32, dev);
    o.topk_i2t = Tensor::empty({Bi, Bt, K}, DType::F32, dev);
    if (k) {  // the fused kernel: one block per (caption, image) pair
        Tensor len_d = Tensor::from_i64({Bt}, len).to(dev);
        VSD_RUN(*k, region_word_stats)(o.mean_t2i.data(), o.topk_t2i.data(), o.mean_i2t.data(), o.topk_i2t.data(),
                                       psi_hat.data(), phi_hat.data(), len_d.i64(), Bt, L, Bi, R, E, K, slope, 1e-8f);
    } else {  // every word against every region in one GEMM, then the per-pair reductions
        std::vector<float> dots(Bt * L * Bi * R);
        gemm_cpu(false, true, Bt * L, Bi * R, E, 1.0f, psi_hat.data(), E, phi_hat.data(), E, 0.0f, dots.data(), Bi * R);
        region_word_stats_cpu(o.mean_t2i.data(), o.topk_t2i.data(), o.mean_i2t.data(), o.topk_i2t.data(),
                              psi_hat.data(), phi_hat.data(), len.data(), Bt, L, Bi, R, E, K, slope, 1e-8f, dots.data());
    }
    return o;
}

}  // namespace vsd
