// positional_encoding.h — GPO's sinusoidal encoding of set positions (CPU reference; CUDA:
// positional_encoding.cu). GPO paper §3.3; paper-notes §2.1.
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// pe (B, N, P), P even:  pe[b, k, 2j] = sin(k w_j),  pe[b, k, 2j+1] = cos(k w_j)  for k < len[b],
// 0 for k >= len[b];  w_j = exp(2j * -(ln 10000 / P)), all in float (as torch computes it).
void positional_encoding_cpu(float* pe, const int64_t* len, int64_t B, int64_t N, int64_t P);

// the CUDA versions (kernels/positional_encoding.cu)
VSD_LAUNCHERS(
    void positional_encoding(float* pe, const int64_t* len, int64_t B, int64_t N, int64_t P);
)

}  // namespace vsd
