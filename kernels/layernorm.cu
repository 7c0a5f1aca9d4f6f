/*
LayerNorm over the last dim, forward and backward.      CPU reference: kernels/layernorm.cpp

What it computes (BERT, HREM's transformer layers)
    y = (x - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps), var biased;   x, y: (rows, n)
    backward, xhat = (x - mean) rstd, g = dy * w:
        dx += rstd * (g - mean(g) - xhat * mean(g * xhat))       (per row)
        dw += sum over rows of dy * xhat,  db += sum over rows of dy

Versions
    1  one warp per row for the forward and for dx: two shuffle reductions per row (mean, then
       the variance around it, as the CPU's two-pass form). dw and db are sums over rows, done by
       a second kernel that gives each column to one column of a 32 x 8 block: the 8 threads sum
       strided rows, then thread 0 adds the 8 partials in a fixed order. (Adding across rows with
       atomicAdd, as a first version did, makes the order of the additions, and so the last bits
       of dw and db, change from run to run on a GPU.)

Napkin math
    forward reads x, w, b and writes y: ~2 rows*n*4 bytes, bandwidth-bound. BERT-base, 32 x 24
    tokens, n = 768: 2.4 MB per LayerNorm, a few microseconds.
*/
#include "common.cuh"
#include "layernorm.h"

namespace vsd {
namespace VSD_KNS {

__global__ void layernorm_forward_kernel(float* y, float* mean, float* rstd, const float* x, const float* w,
                                         const float* b, int64_t rows, int64_t n, float eps) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = x + r * n;
    float s = 0.0f;
    for (int64_t i = lane; i < n; i += 32) s += xr[i];
    const float m = warp_reduce_sum(s) / (float)n;
    float ss = 0.0f;
    for (int64_t i = lane; i < n; i += 32) ss += (xr[i] - m) * (xr[i] - m);  // two-pass: no cancellation
    const float rs = rsqrtf(warp_reduce_sum(ss) / (float)n + eps);
    for (int64_t i = lane; i < n; i += 32) y[r * n + i] = (xr[i] - m) * rs * w[i] + b[i];
    if (lane == 0) { mean[r] = m; rstd[r] = rs; }
}

__global__ void layernorm_backward_kernel(float* dx, const float* dy, const float* x,
                                          const float* mean, const float* rstd, const float* w, int64_t rows, int64_t n) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = x + r * n;
    const float* dyr = dy + r * n;
    float mg = 0.0f, mgx = 0.0f;
    for (int64_t i = lane; i < n; i += 32) {
        const float xhat = (xr[i] - mean[r]) * rstd[r], g = dyr[i] * w[i];
        mg += g;
        mgx += g * xhat;
    }
    mg = warp_reduce_sum(mg) / (float)n;
    mgx = warp_reduce_sum(mgx) / (float)n;
    if (dx)
        for (int64_t i = lane; i < n; i += 32) {
            const float xhat = (xr[i] - mean[r]) * rstd[r];
            dx[r * n + i] += rstd[r] * (dyr[i] * w[i] - mg - xhat * mgx);
        }
}

constexpr int kLnLanes = 8;  // threads summing the rows of one column

// dw[i] += sum_r dy[r, i] xhat[r, i], db[i] += sum_r dy[r, i]: column i per threadIdx.x of a 32 x 8
// block, the lanes threadIdx.y taking rows y, y + 8, ...; then a fixed-order sum of the 8 partials.
__global__ void layernorm_param_grad_kernel(float* dw, float* db, const float* dy, const float* x, const float* mean,
                                            const float* rstd, int64_t rows, int64_t n) {
    __shared__ float pw[kLnLanes][32], pb[kLnLanes][32];
    const int64_t i = (int64_t)blockIdx.x * 32 + threadIdx.x;
    float sw = 0.0f, sb = 0.0f;
    if (i < n)
        for (int64_t r = threadIdx.y; r < rows; r += kLnLanes) {
            sw += dy[r * n + i] * ((x[r * n + i] - mean[r]) * rstd[r]);
            sb += dy[r * n + i];
        }
    pw[threadIdx.y][threadIdx.x] = sw;
    pb[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && i < n) {
        float tw = 0.0f, tb = 0.0f;
        for (int y = 0; y < kLnLanes; y++) tw += pw[y][threadIdx.x], tb += pb[y][threadIdx.x];
        if (dw) dw[i] += tw;
        if (db) db[i] += tb;
    }
}

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t rows,
                       int64_t n, float eps) {
    if (rows == 0) return;
    VSD_LAUNCH(layernorm_forward_kernel, ceil_div(rows, 4), 128, 0, y, mean, rstd, x, w, b, rows, n, eps);
}

void layernorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                        const float* rstd, const float* w, int64_t rows, int64_t n) {
    if (rows == 0) return;
    if (dx) VSD_LAUNCH(layernorm_backward_kernel, ceil_div(rows, 4), 128, 0, dx, dy, x, mean, rstd, w, rows, n);
    if (dw || db) VSD_LAUNCH(layernorm_param_grad_kernel, ceil_div(n, 32), dim3(32, kLnLanes), 0, dw, db, dy, x, mean, rstd, rows, n);
}

}  // namespace VSD_KNS
}  // namespace vsd
