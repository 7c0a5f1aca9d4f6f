/*
The AdamW update and the gradient norm on the GPU.    CPU reference: kernels/adamw.cpp

What it computes
    p = p (1 - lr wd) - lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), m and v updated first
    the global norm of every gradient, and the clip coefficient min(1, max_norm / (norm + 1e-6))

Versions
    adamw_update    one tensor, one thread per element, a grid-stride loop: a launch per tensor.
    adamw_chunks    every tensor in one launch: a block per chunk of a table (kernels/adamw.h),
                    the bias corrections and step size computed once per block, then the same
                    loop; the gradient is scaled by the clip coefficient read from device memory.
    chunk_sqnorms   a block per chunk: each thread sums the squares of its strided elements, then a
    + clip_coefficient  tree in shared memory; one block then adds the per-chunk partials in double,
                    in a fixed order. No atomics, so the norm is the same bits on every run.
    zero_chunks     zero_grad: every gradient of the table in one launch (not a memset per tensor).
*/
#include "common.cuh"
#include "adamw.h"

namespace vsd {
namespace VSD_KNS {

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                             float wd, float bc1, float bc2_sqrt) {
    VSD_GRID_STRIDE(i, n) {
        p[i] *= 1.0f - lr * wd;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= (lr / bc1) * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                  float bc1, float bc2_sqrt) {
    if (n > 0) VSD_LAUNCH(adamw_kernel, grid1d(n), 256, 0, p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2_sqrt);
}

// Sum of a block's `v` (blockDim.x a power of two, at most 256), returned to thread 0.
template <class T>
__device__ T block_tree_sum(T v, T* shared) {
    const int tid = threadIdx.x;
    shared[tid] = v;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (tid < half) shared[tid] += shared[tid + half];
        __syncthreads();
    }
    return shared[0];
}

__global__ void chunk_sqnorms_kernel(float* partial, const AdamWChunk* chunks) {
    VSD_DYNAMIC_SHARED(float, sh);  // (dynamic: the emulator gives each launch fresh zeros, so a missing barrier shows)
    const AdamWChunk c = chunks[blockIdx.x];
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < c.n; i += blockDim.x) s += c.g[i] * c.g[i];
    s = block_tree_sum(s, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void clip_coefficient_kernel(float* out, const float* partial, int64_t nchunks, float max_norm,
                                        const float* also, float* row) {
    VSD_DYNAMIC_SHARED(double, sh);
    double s = 0.0;
    for (int64_t c = threadIdx.x; c < nchunks; c += blockDim.x) s += partial[c];
    s = block_tree_sum(s, sh);
    if (threadIdx.x == 0) {  // (reference: clip_coefficient_cpu)
        const float norm = (float)sqrt(s), coef = max_norm / (norm + 1e-6f), loss = also ? *also : 0.0f;
        const bool skip = !isfinite(norm) || !isfinite(loss);
        out[0] = norm;
        out[1] = skip ? -1.0f : (coef < 1.0f ? coef : 1.0f);
        out[2] = loss;
        out[3] = skip ? 1.0f : 0.0f;
        if (skip) out[4] += 1.0f;
        if (row) row[0] = loss, row[1] = norm, row[2] = out[3];
    }
}

__global__ void adamw_chunks_kernel(const AdamWChunk* chunks, AdamWHyper h, const float* coef, const float* skipped) {
    const float scale = *coef;
    if (scale < 0.0f) return;  // a skipped step (a non-finite loss or norm)
    const AdamWChunk c = chunks[blockIdx.x];
    const int64_t t = c.t0 + h.since - (skipped ? (int64_t)*skipped : 0);
    const float lr = h.lr[c.group], wd = h.wd[c.group];
    const float step_size = (float)(lr / adamw_bc1(h.b1, t)), bc2_sqrt = (float)adamw_bc2_sqrt(h.b2, t);
    const float decay = 1.0f - lr * wd;
    for (int64_t i = threadIdx.x; i < c.n; i += blockDim.x) {
        const float g = c.g[i] * scale;
        c.p[i] *= decay;
        c.m[i] = h.b1 * c.m[i] + (1.0f - h.b1) * g;
        c.v[i] = h.b2 * c.v[i] + (1.0f - h.b2) * g * g;
        c.p[i] -= step_size * c.m[i] / (sqrtf(c.v[i]) / bc2_sqrt + h.eps);
    }
}

__global__ void zero_chunks_kernel(const AdamWChunk* chunks) {
    const AdamWChunk c = chunks[blockIdx.x];
    for (int64_t i = threadIdx.x; i < c.n; i += blockDim.x) c.g[i] = 0.0f;
}

void zero_chunks(const AdamWChunk* chunks, int64_t nchunks) {
    if (nchunks > 0) VSD_LAUNCH(zero_chunks_kernel, nchunks, 256, 0, chunks);
}

void chunk_sqnorms(float* partial, const AdamWChunk* chunks, int64_t nchunks) {
    if (nchunks > 0) VSD_LAUNCH(chunk_sqnorms_kernel, nchunks, 256, 256 * sizeof(float), partial, chunks);
}

void clip_coefficient(float* out, const float* partial, int64_t nchunks, float max_norm, const float* also, float* row) {
    VSD_LAUNCH(clip_coefficient_kernel, 1, 256, 256 * sizeof(double), out, partial, nchunks, max_norm, also, row);
}

void adamw_chunks(const AdamWChunk* chunks, int64_t nchunks, AdamWHyper h, const float* coef, const float* skipped) {
    if (nchunks > 0) VSD_LAUNCH(adamw_chunks_kernel, nchunks, 256, 0, chunks, h, coef, skipped);
}

}  // namespace VSD_KNS
}  // namespace vsd
