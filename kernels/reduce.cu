/*
Row sums (and means): y[r] = scale * sum_i x[r, i].      CPU reference: kernels/reduce.cpp (inner = 1)

Used by: mean/sum over the last dim, and as the teaching example of a parallel reduction.
Backward is a broadcast (dx[r, i] += scale * dy[r]) and needs no reduction.

Versions (the classic reduction ladder; each fixes the previous one's main cost)
    1  one thread per row, a serial loop: uncoalesced, and few threads when rows are few.
    2  one block per row, shared-memory tree: each of T threads sums a strided slice (coalesced),
       then log2(T) halving steps combine the partial sums in shared memory. Every step must be
       separated by __syncthreads: a thread reads its partner's slot, which another thread wrote.
    3  one block per row, warp shuffles: each warp reduces in registers (no shared memory, no
       barrier), then one shared slot per warp and a final warp reduction: one __syncthreads.

Napkin math
    reads rows*n*4 bytes: bandwidth-bound; FLOPs are negligible (n adds per row).
*/
#include "common.cuh"
#include "elementwise_ops.h"  // nan_greater
#include "reduce.h"

namespace vsd {
namespace VSD_KNS {

__global__ void rowsum_kernel1(float* y, const float* x, int64_t rows, int64_t n, float scale) {
    const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += x[r * n + i];
    y[r] = s * scale;
}

constexpr int kReduceThreads = 128;  // a power of two (the tree halves it)

__global__ void rowsum_kernel2(float* y, const float* x, int64_t rows, int64_t n, float scale) {
    __shared__ float partial[kReduceThreads];
    const int64_t r = blockIdx.x;
    const int t = threadIdx.x;
    float s = 0.0f;
    for (int64_t i = t; i < n; i += blockDim.x) s += x[r * n + i];  // strided slice: coalesced
    partial[t] = s;
    __syncthreads();  // every slot written before anyone reads a partner's
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) partial[t] += partial[t + stride];
        __syncthreads();  // this level finished before the next one reads it
    }
    if (t == 0) y[r] = partial[0] * scale;
}

__global__ void rowsum_kernel3(float* y, const float* x, int64_t rows, int64_t n, float scale) {
    __shared__ float per_warp[32];
    const int64_t r = blockIdx.x;
    const int t = threadIdx.x, lane = t % 32, warp = t / 32, nwarps = blockDim.x / 32;
    float s = 0.0f;
    for (int64_t i = t; i < n; i += blockDim.x) s += x[r * n + i];
    s = warp_reduce_sum(s);          // in registers, within each warp
    if (lane == 0) per_warp[warp] = s;
    __syncthreads();                 // all warps' sums are in shared memory
    if (warp == 0) {
        s = lane < nwarps ? per_warp[lane] : 0.0f;
        s = warp_reduce_sum(s);
        if (lane == 0) y[r] = s * scale;
    }
}

void rowsum_forward(float* y, const float* x, int64_t rows, int64_t n, float scale, int version) {
    if (rows == 0) return;
    if (version == 1) VSD_LAUNCH(rowsum_kernel1, ceil_div(rows, 128), 128, 0, y, x, rows, n, scale);
    else if (version == 2) VSD_LAUNCH(rowsum_kernel2, rows, kReduceThreads, 0, y, x, rows, n, scale);
    else VSD_LAUNCH(rowsum_kernel3, rows, kReduceThreads, 0, y, x, rows, n, scale);
}

// ---- along one dim of an (outer, n, inner) view: one output per thread (the ops' path) --------

__global__ void sum_dim_kernel(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale) {
    VSD_GRID_STRIDE(t, outer * inner) {  // (reference: sum_dim_forward_cpu) one output per thread
        const int64_t o = t / inner, i = t % inner;
        float s = 0.0f;
        for (int64_t k = 0; k < n; k++) s += x[(o * n + k) * inner + i];
        y[t] = s * scale;
    }
}

__global__ void max_dim_kernel(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner) {
    VSD_GRID_STRIDE(t, outer * inner) {  // (reference: max_dim_forward_cpu) ties: the first index
        const int64_t o = t / inner, i = t % inner;
        float best = x[o * n * inner + i];
        int64_t arg = 0;
        for (int64_t k = 1; k < n; k++) {
            const float v = x[(o * n + k) * inner + i];
            if (nan_greater(v, best)) { best = v; arg = k; }  // NaN wins, as the CPU's
        }
        y[t] = best;
        idx[t] = arg;
    }
}

void sum_dim(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale) {
    if (outer * inner > 0) VSD_LAUNCH(sum_dim_kernel, grid1d(outer * inner), 256, 0, y, x, outer, n, inner, scale);
}

void max_dim(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner) {
    if (outer * inner > 0) VSD_LAUNCH(max_dim_kernel, grid1d(outer * inner), 256, 0, y, idx, x, outer, n, inner);
}

}  // namespace VSD_KNS
}  // namespace vsd
