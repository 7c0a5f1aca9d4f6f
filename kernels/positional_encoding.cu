/*
GPO's positional encoding on the GPU.                 CPU reference: kernels/positional_encoding.cpp

What it computes
    pe[b, k, 2j] = sin(k w_j), pe[b, k, 2j+1] = cos(k w_j) for the real positions k < len[b], 0 for
    the padding; w_j = exp(2j * -(ln 10000 / P)). Built where the model lives: only the B lengths
    cross from the host. (The GPU's sinf/cosf/expf may differ from the host's in the last bit.)

Version
    1  the grid-stride loop of common.cuh, one thread per (b, k, j) pair of outputs.
*/
#include "common.cuh"
#include "positional_encoding.h"

namespace vsd {
namespace VSD_KNS {

__global__ void positional_encoding_kernel(float* pe, const int64_t* len, int64_t B, int64_t N, int64_t P) {
    const int64_t half = P / 2;
    VSD_GRID_STRIDE(t, B * N * half) {
        const int64_t b = t / (N * half), k = (t / half) % N, j = t % half;
        float* o = pe + (b * N + k) * P + 2 * j;
        if (k >= len[b]) {
            o[0] = o[1] = 0.0f;
        } else {
            const float w = expf((float)(2 * j) * -(logf(10000.0f) / (float)P));
            o[0] = sinf((float)k * w);
            o[1] = cosf((float)k * w);
        }
    }
}

void positional_encoding(float* pe, const int64_t* len, int64_t B, int64_t N, int64_t P) {
    if (B * N * (P / 2) > 0) VSD_LAUNCH(positional_encoding_kernel, grid1d(B * N * (P / 2)), 256, 0, pe, len, B, N, P);
}

}  // namespace VSD_KNS
}  // namespace vsd
