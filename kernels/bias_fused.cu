/*
A linear layer's bias, fused with the GELU or the dropout + residual add that follows it.
                                                           CPU reference: kernels/bias_fused.cpp
What they compute (bias_fused.h)
    forward   y = gelu(z + b)  or  y = h + dropout(z + b)           z, h, y: (rows, n), b: (n)
    backward  dz += g, dh += dy (residual), db += sum over rows of g, where g is the gradient of
              z + b (gelu'(z + b) dy, or dy times dropout's scale)

Versions (one each)
    forward   the grid-stride loop of common.cuh: one thread per element, consecutive threads on
              consecutive columns (coalesced).
    backward  the column pattern of binary_backward_reduce_kernel (elementwise.cu): a block of
              32 x 8 threads owns 32 columns; threadIdx.x is the column (a warp reads 32
              consecutive floats of a row), the 8 threadIdx.y lanes take every 8th row. Each
              thread writes its elements' dz (and dh) and sums their g; the 8 partial sums of a
              column are then added in a fixed order in shared memory. One launch does the
              elementwise part and the bias's reduction, with no atomics: the same bits every run.

Napkin math
    bert-base, B = 128, L = 32: rows 4096, n = 768 (3072 for the GELU): 12.6 MB (50 MB) per
    tensor; each pass is memory-bound, and fusing saves the reads and writes of the intermediate
    t = z + b and of dropout's output, besides 4 launches.
*/
#include "common.cuh"
#include "bias_fused.h"
#include "elementwise_ops.h"

namespace vsd {
namespace VSD_KNS {

__global__ void bias_fused_forward_kernel(BiasFused op, float* y, const float* z, const float* b, const float* h,
                                          int64_t rows, int64_t n, float p, uint64_t seed) {
    VSD_GRID_STRIDE(e, rows * n) {
        const float t = z[e] + b[e % n];
        if (op == BiasFused::Gelu) y[e] = unary_f(Unary::Gelu, t, 0.0f, 0.0f);
        else y[e] = h[e] + (p > 0.0f ? t * dropout_scale(seed, e, p) : t);
    }
}

constexpr int kBiasLanes = 8;  // rows summed in parallel per column

__global__ void bias_fused_backward_kernel(BiasFused op, float* dz, float* db, float* dh, const float* dy, const float* z,
                                           const float* b, int64_t rows, int64_t n, float p, uint64_t seed) {
    __shared__ float part[kBiasLanes][32];
    const int64_t j = (int64_t)blockIdx.x * 32 + threadIdx.x;  // this thread's column
    float s = 0.0f;
    if (j < n) {
        for (int64_t r = threadIdx.y; r < rows; r += kBiasLanes) {
            const int64_t e = r * n + j;
            const float g = bias_fused_grad(op, dy[e], z[e] + b[j], p, seed, e);
            if (dh && op == BiasFused::DropoutResidual) dh[e] += dy[e];
            if (dz) dz[e] += g;
            s += g;
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < n && db) {
        float t = 0.0f;
        for (int l = 0; l < kBiasLanes; l++) t += part[l][threadIdx.x];  // a fixed order
        db[j] += t;
    }
}

void bias_fused_forward(BiasFused op, float* y, const float* z, const float* b, const float* h, int64_t rows, int64_t n,
                        float p, uint64_t seed) {
    if (rows * n > 0) VSD_LAUNCH(bias_fused_forward_kernel, grid1d(rows * n), 256, 0, op, y, z, b, h, rows, n, p, seed);
}

void bias_fused_backward(BiasFused op, float* dz, float* db, float* dh, const float* dy, const float* z, const float* b,
                         int64_t rows, int64_t n, float p, uint64_t seed) {
    if (n > 0)
        VSD_LAUNCH(bias_fused_backward_kernel, ceil_div(n, 32), dim3(32, kBiasLanes), 0, op, dz, db, dh, dy, z, b, rows, n, p,
                   seed);
}

}  // namespace VSD_KNS
}  // namespace vsd
