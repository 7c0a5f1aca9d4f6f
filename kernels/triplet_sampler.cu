/*
Distance-weighted negative sampling on the GPU.        CPU reference: kernels/triplet_sampler.cpp

What it computes (kernels/triplet_sampler.h, paper-notes §3.2)
    triplet_weights: each anchor's row of sampling weights, in double, and whether it has a negative
    triplet_sample:  each positive pair's negative, drawn from its anchor's row at a uniform that the
                     host drew (so a seed gives the same negatives on every device)

Version
    1  one thread per anchor, running the same per-row functions as the CPU reference in the same
       order. B is a batch (128): the work is tiny, and what it saves is the copy of S to the host
       and back that a host sampler needs every step.
*/
#include "common.cuh"
#include "triplet_sampler.h"

namespace vsd {
namespace VSD_KNS {

__global__ void triplet_weights_kernel(double* w, int64_t* ok, const float* S, const int64_t* ids, int64_t B, double n,
                                       double min_dist, double cutoff) {
    VSD_GRID_STRIDE(a, B) ok[a] = triplet_row_weights(w + a * B, S + a * B, ids, a, B, n, min_dist, cutoff);
}

__global__ void triplet_sample_kernel(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first,
                                      const double* u, const int64_t* recorded, int64_t B) {
    VSD_GRID_STRIDE(a, B) triplet_sample_anchor(neg, w, ids, first, u, recorded, B, a);
}

void triplet_weights(double* w, int64_t* ok, const float* S, const int64_t* ids, int64_t B, double n, double min_dist,
                     double cutoff) {
    if (B > 0) VSD_LAUNCH(triplet_weights_kernel, grid1d(B), 256, 0, w, ok, S, ids, B, n, min_dist, cutoff);
}

void triplet_sample(int64_t* neg, const double* w, const int64_t* ids, const int64_t* first, const double* u,
                    const int64_t* recorded, int64_t B) {
    if (B > 0) VSD_LAUNCH(triplet_sample_kernel, grid1d(B), 256, 0, neg, w, ids, first, u, recorded, B);
}

}  // namespace VSD_KNS
}  // namespace vsd
