/*
Softmax / log-softmax over the last dim, with an optional 0/1 mask.   CPU reference: kernels/softmax.cpp

What it computes (stable form: subtract the row max first, so exp never overflows)
    y[r,k] = exp(x[r,k] - m) / Z   (log: x[r,k] - m - log Z),   m = max over kept k, Z = sum exp(x - m)
    masked positions: 0 (log: -inf); a fully masked row: all 0 (log: all -inf)

Versions
    1  one thread per row: three serial passes (max, sum, write). Simple; uncoalesced.
    2  one warp per row: each pass strided over the lanes (coalesced) and reduced by shuffles.
    backward (warp per row): softmax dx += y (dy - <dy, y>); log_softmax dx += dy - exp(y) sum(dy),
    sums over the unmasked positions only.

Napkin math
    reads x (and the mask) twice, writes y once: ~3 rows*n*4 bytes; bandwidth-bound.
*/
#include "common.cuh"
#include "softmax.h"

namespace vsd {
namespace VSD_KNS {

__global__ void softmax_kernel1(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log) {
    const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const float* xr = x + r * n;
    const float* mr = mask ? mask + r * n : nullptr;
    float m = -INFINITY;
    for (int64_t k = 0; k < n; k++)
        if (!mr || mr[k] != 0.0f) m = fmaxf(m, xr[k]);
    if (m == -INFINITY) {  // empty or fully masked
        for (int64_t k = 0; k < n; k++) y[r * n + k] = log ? -INFINITY : 0.0f;
        return;
    }
    float z = 0.0f;
    for (int64_t k = 0; k < n; k++)
        if (!mr || mr[k] != 0.0f) z += expf(xr[k] - m);
    const float logz = logf(z);
    for (int64_t k = 0; k < n; k++) {
        const bool keep = !mr || mr[k] != 0.0f;
        y[r * n + k] = log ? (keep ? xr[k] - m - logz : -INFINITY) : (keep ? expf(xr[k] - m) / z : 0.0f);
    }
}

__global__ void softmax_kernel2(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = x + r * n;
    const float* mr = mask ? mask + r * n : nullptr;
    float m = -INFINITY;
    for (int64_t k = lane; k < n; k += 32)
        if (!mr || mr[k] != 0.0f) m = fmaxf(m, xr[k]);
    m = warp_reduce_max(m);
    if (m == -INFINITY) {
        for (int64_t k = lane; k < n; k += 32) y[r * n + k] = log ? -INFINITY : 0.0f;
        return;
    }
    float z = 0.0f;
    for (int64_t k = lane; k < n; k += 32)
        if (!mr || mr[k] != 0.0f) z += expf(xr[k] - m);
    z = warp_reduce_sum(z);
    const float logz = logf(z);
    for (int64_t k = lane; k < n; k += 32) {
        const bool keep = !mr || mr[k] != 0.0f;
        y[r * n + k] = log ? (keep ? xr[k] - m - logz : -INFINITY) : (keep ? expf(xr[k] - m) / z : 0.0f);
    }
}

__global__ void softmax_backward_kernel(float* dx, const float* dy, const float* y, const float* mask, int64_t rows,
                                        int64_t n, bool log) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* mr = mask ? mask + r * n : nullptr;
    float s = 0.0f;  // softmax: <dy, y>;  log_softmax: sum(dy)
    for (int64_t k = lane; k < n; k += 32)
        if (!mr || mr[k] != 0.0f) s += log ? dy[r * n + k] : dy[r * n + k] * y[r * n + k];
    s = warp_reduce_sum(s);
    for (int64_t k = lane; k < n; k += 32) {
        if (mr && mr[k] == 0.0f) continue;
        dx[r * n + k] += log ? dy[r * n + k] - expf(y[r * n + k]) * s : y[r * n + k] * (dy[r * n + k] - s);
    }
}

void softmax_backward(float* dx, const float* dy, const float* y, const float* mask, int64_t rows, int64_t n, bool log) {
    if (rows == 0) return;
    VSD_LAUNCH(softmax_backward_kernel, ceil_div(rows, 4), 128, 0, dx, dy, y, mask, rows, n, log);
}

void softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log, int version) {
    if (rows == 0) return;
    if (version == 1) VSD_LAUNCH(softmax_kernel1, ceil_div(rows, 128), 128, 0, y, x, mask, rows, n, log);
    else VSD_LAUNCH(softmax_kernel2, ceil_div(rows, 4), 128, 0, y, x, mask, rows, n, log);
}

}  // namespace VSD_KNS
}  // namespace vsd
