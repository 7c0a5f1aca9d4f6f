// triplet_sampler.cpp — distance-weighted negative sampling, anchor by anchor (kernels/triplet_sampler.h).
#include "triplet_sampler.h"

namespace vsd {

void triplet_weights_cpu(double* w, int64_t* ok, const float* S, const int64_t* ids, int64_t B, double n,
                         double min_dist, double cutoff) {
    for (int64_t a = 0; a < B; a++) ok[a] = triplet_row_weights(w + a * B, S + a * B, ids, a, B, n, min_dist, cutoff);
}

void triplet_sample_cpu(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first, const double* u,
                        const int64_t* recorded, int64_t B) {
    for (int64_t a = 0; a < B; a++) triplet_sample_anchor(neg, w, ids, first, u, recorded, B, a);
}

}  // namespace vsd
