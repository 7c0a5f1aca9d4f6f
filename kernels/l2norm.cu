/*
L2 normalisation of rows, forward and backward.          CPU reference: kernels/l2norm.cpp

What it computes (the reference's l2n, paper-notes §2: epsilon added to the norm)
    y[r,:] = x[r,:] / (||x[r,:]|| + eps)          x, y: (rows, n)   norm: (rows,) = ||x[r,:]||
    backward, d = ||x|| + eps:  dx += dy / d - x <dy, x> / (d^2 ||x||)     (0 second term if ||x|| = 0)
    Why: d/dx of x/d(x) with dd/dx = x/||x||; the second term removes the part of dy along x.

Used by: every image/text embedding before cosine similarity (src/nn)

Versions (each fixes the previous one's main cost)
    1  one thread per row. Each thread walks n floats alone, so neighbouring threads read addresses
       n*4 bytes apart (uncoalesced), and a batch of 128 rows is only 128 threads: the GPU idles.
    2  one warp per row. Lanes read neighbouring floats (coalesced), a warp shuffle reduces the sum;
       no shared memory, no __syncthreads.

Napkin math
    reads rows*n*4 bytes, writes rows*n*4 bytes: bandwidth-bound. rows = 128, n = 1024: 1 MiB moved,
    ~1 us at H200's ~4.8 TB/s. Report GB/s, not FLOP/s.
*/
#include "common.cuh"
#include "l2norm.h"

namespace vsd {
namespace VSD_KNS {

__global__ void l2norm_forward_kernel1(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps) {
    const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;  // this thread's row
    if (r >= rows) return;
    const float* xr = x + r * n;
    float ss = 0.0f;
    for (int64_t i = 0; i < n; i++) ss += xr[i] * xr[i];
    const float nr = sqrtf(ss), inv = 1.0f / (nr + eps);
    for (int64_t i = 0; i < n; i++) y[r * n + i] = xr[i] * inv;
    norm[r] = nr;
}

__global__ void l2norm_forward_kernel2(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;  // this warp's row
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;  // the whole warp leaves together (rows are warp-aligned)
    const float* xr = x + r * n;
    const float ss = warp_dot(xr, xr, n, lane);  // lanes read neighbours (coalesced); all lanes get the sum
    const float nr = sqrtf(ss), inv = 1.0f / (nr + eps);
    for (int64_t i = lane; i < n; i += 32) y[r * n + i] = xr[i] * inv;
    if (lane == 0) norm[r] = nr;
}

__global__ void l2norm_backward_kernel(float* dx, const float* dy, const float* x, const float* norm, int64_t rows,
                                       int64_t n, float eps) {
    const int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float dot = warp_dot(dy + r * n, x + r * n, n, lane);
    const float d = norm[r] + eps, c = norm[r] > 0.0f ? dot / (d * d * norm[r]) : 0.0f;
    for (int64_t i = lane; i < n; i += 32) dx[r * n + i] += dy[r * n + i] / d - x[r * n + i] * c;
}

void l2norm_forward(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps, int version) {
    if (rows == 0) return;
    if (version == 1) {
        VSD_LAUNCH(l2norm_forward_kernel1, ceil_div(rows, 128), 128, 0, y, norm, x, rows, n, eps);
    } else {
        const int warps = 4;  // rows per block
        VSD_LAUNCH(l2norm_forward_kernel2, ceil_div(rows, warps), 32 * warps, 0, y, norm, x, rows, n, eps);
    }
}

void l2norm_backward(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n, float eps) {
    if (rows == 0) return;
    VSD_LAUNCH(l2norm_backward_kernel, ceil_div(rows, 4), 128, 0, dx, dy, x, norm, rows, n, eps);
}

// F.normalize in double, one thread per row (the CPU reference's order, so the same bits): it runs
// once, as constants load, and is not worth a reduction
__global__ void unit_rows_kernel(float* y, const float* x, int64_t rows, int64_t n, double eps) {
    VSD_GRID_STRIDE(r, rows) {
        double ss = 0;
        for (int64_t k = 0; k < n; k++) ss += (double)x[r * n + k] * x[r * n + k];
        const double norm = sqrt(ss);
        const float inv = (float)(1.0 / (norm > eps ? norm : eps));
        for (int64_t k = 0; k < n; k++) y[r * n + k] = x[r * n + k] * inv;
    }
}

void unit_rows(float* y, const float* x, int64_t rows, int64_t n, double eps) {
    if (rows > 0) VSD_LAUNCH(unit_rows_kernel, grid1d(rows), 256, 0, y, x, rows, n, eps);
}

}  // namespace VSD_KNS
}  // namespace vsd
