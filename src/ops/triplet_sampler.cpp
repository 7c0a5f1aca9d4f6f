// triplet_sampler.cpp — the triplet loss's negatives, drawn on S's device (kernels/triplet_sampler.h).
// No gradient: the draw only chooses which entries of S the loss reads.
#include "../../kernels/triplet_sampler.h"
#include "util.h"

namespace vsd {

TripletDraw triplet_negatives(const Tensor& S, const std::vector<int64_t>& ids, const TripletSampling& o, Rng& rng) {
    const Backend* k = op_device("triplet_negatives", {S});
    ENSURE(S.ndim() == 2 && S.size(0) == S.size(1), "triplet_negatives: S must be (B, B), got %s", S.shape_str().c_str());
    check_f32("triplet_negatives", S, "S");
    const int64_t B = S.size(0);
    ENSURE((int64_t)ids.size() == B, "triplet_negatives: %zu image ids for a batch of %lld", ids.size(), (long long)B);
    const Device dev = device_of(k);
    // 1. each anchor's weights (B x B doubles, held as 8-byte int64 storage) and whether it has a negative
    const Tensor id = Tensor::from_i64({B}, ids).to(dev);
    Tensor w = Tensor::empty({B * B}, DType::I64, dev), ok = Tensor::empty({B}, DType::I64, dev);
    double* wd = reinterpret_cast<double*>(w.i64());
    if (k) VSD_RUN(*k, triplet_weights)(wd, ok.i64(), S.data(), id.i64(), B, o.dim, o.min_dist, o.cutoff);
    else triplet_weights_cpu(wd, ok.i64(), S.data(), id.i64(), B, o.dim, o.min_dist, o.cutoff);
    // 2. on the host: which anchors own which pair slots (B flags cross, not S)
    const Tensor okh = ok.to(Device::CPU);
    TripletDraw d;
    std::vector<int64_t> first(B, -1), pos;
    for (int64_t a = 0; a < B; a++) {
        if (!okh.i64()[a]) { d.skipped++; continue; }
        first[a] = (int64_t)pos.size();
        for (int64_t p = 0; p < B; p++)
            if (ids[p] == ids[a]) pos.push_back(a * B + p);
    }
    const int64_t P = (int64_t)pos.size();
    if (d.skipped && o.all_or_nothing) { d.zeroed = true; d.skipped = 0; return d; }
    d.pos = Tensor::from_i64({P}, pos).to(dev);
    d.neg = Tensor::empty({P}, DType::I64, dev);
    if (P == 0) return d;
    // 3. the draws: one uniform per pair, in (a, p) order, or the recorded negatives
    Tensor u = Tensor::empty({P}, DType::I64), rec;
    if (o.recorded) {
        ENSURE((int64_t)o.recorded->size() >= P, "triplet_loss: %zu recorded negatives, fewer than the %lld positive pairs",
               o.recorded->size(), (long long)P);
        rec = Tensor::from_i64({P}, std::vector<int64_t>(o.recorded->begin(), o.recorded->begin() + P)).to(dev);
    } else {
        double* uh = reinterpret_cast<double*>(u.i64());
        for (int64_t q = 0; q < P; q++) uh[q] = rng.uniform_double();
    }
    u = u.to(dev);
    const Tensor fst = Tensor::from_i64({B}, first).to(dev);
    const double* ud = reinterpret_cast<const double*>(u.i64());
    const int64_t* rd = o.recorded ? rec.i64() : nullptr;
    if (k) VSD_RUN(*k, triplet_sample)(d.neg.i64(), wd, id.i64(), fst.i64(), ud, rd, B);
    else triplet_sample_cpu(d.neg.i64(), wd, id.i64(), fst.i64(), ud, rd, B);
    if (o.recorded) {  // a recorded negative that is not one here: the two runs have diverged
        const Tensor nh = d.neg.to(Device::CPU);
        for (int64_t q = 0; q < P; q++)
            ENSURE(nh.i64()[q] >= 0, "triplet_loss: recorded negative %lld of anchor %lld has weight 0 here (the runs "
                   "have diverged)", (long long)(*o.recorded)[q], (long long)(pos[q] / B));
    }
    return d;
}

}  // namespace vsd
