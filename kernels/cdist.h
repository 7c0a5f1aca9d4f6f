// cdist.h — pairwise Euclidean distances (CPU reference; CUDA: cdist.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// a (N, D), b (M, D) -> out (N, M), out[i,j] = ||a_i - b_j||
void cdist_forward_cpu(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D);
// da_i += sum_j dout[i,j] (a_i - b_j) / out[i,j];  db_j -= likewise   (0 where the distance is 0)
void cdist_backward_cpu(float* da, float* db, const float* dout, const float* out, const float* a, const float* b,
                        int64_t N, int64_t M, int64_t D);

// the CUDA versions (kernels/cdist.cu)
VSD_LAUNCHERS(
    void cdist(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D);
    void cdist_backward(float* da, float* db, const float* dout, const float* out, const float* a, const float* b,
                        int64_t N, int64_t M, int64_t D);
)

}  // namespace vsd
