/*
Batch norm (1-d) on the GPU.                          CPU reference: kernels/batchnorm.cpp

What it computes
    (N, C): per-channel statistics over the N rows (biased variance for normalising, unbiased for
    the running update, momentum as PyTorch); backward as in batchnorm.cpp

Version
    1  one block per channel, with a shared-memory tree reduction; a barrier separates every level.
*/
#include "common.cuh"
#include "batchnorm.h"

namespace vsd {
namespace VSD_KNS {

constexpr int kBnThreads = 128;

// block-wide sum of `v` (kBnThreads threads): the shared-memory tree of reduce.cu
__device__ inline float block_sum(float v, float* sh) {
    const int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = kBnThreads / 2; s > 0; s /= 2) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    const float r = sh[0];
    __syncthreads();  // sh is reused by the next call
    return r;
}

__global__ void batchnorm_forward_kernel(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                                         float* rmean, float* rvar, int64_t N, int64_t C, bool training, float momentum,
                                         float eps) {
    __shared__ float sh[kBnThreads];
    const int64_t c = blockIdx.x;
    float m, var;
    if (training) {
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) s += x[i * C + c];
        m = block_sum(s, sh) / (float)N;
        float ss = 0.0f;
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) ss += (x[i * C + c] - m) * (x[i * C + c] - m);
        ss = block_sum(ss, sh);
        var = ss / (float)N;
        if (threadIdx.x == 0) {
            const float unbiased = N > 1 ? ss / (float)(N - 1) : var;
            rmean[c] = (1.0f - momentum) * rmean[c] + momentum * m;
            rvar[c] = (1.0f - momentum) * rvar[c] + momentum * unbiased;
        }
    } else {
        m = rmean[c];
        var = rvar[c];
    }
    const float rs = rsqrtf(var + eps);
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) y[i * C + c] = (x[i * C + c] - m) * rs * w[c] + b[c];
    if (threadIdx.x == 0) { mean[c] = m; rstd[c] = rs; }
}

__global__ void batchnorm_backward_kernel(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean,
                                          const float* rstd, const float* w, int64_t N, int64_t C, bool training) {
    __shared__ float sh[kBnThreads];
    const int64_t c = blockIdx.x;
    float sg = 0.0f, sgx = 0.0f;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
        const float xhat = (x[i * C + c] - mean[c]) * rstd[c];
        sg += dy[i * C + c];
        sgx += dy[i * C + c] * xhat;
    }
    sg = block_sum(sg, sh);
    sgx = block_sum(sgx, sh);
    if (threadIdx.x == 0) {
        if (dw) dw[c] += sgx;
        if (db) db[c] += sg;
    }
    if (!dx) return;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
        const float g = dy[i * C + c];
        if (training) {
            const float xhat = (x[i * C + c] - mean[c]) * rstd[c];
            dx[i * C + c] += w[c] * rstd[c] * (g - sg / (float)N - xhat * sgx / (float)N);
        } else {
            dx[i * C + c] += w[c] * rstd[c] * g;
        }
    }
}

void batchnorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b, float* rmean,
                       float* rvar, int64_t N, int64_t C, bool training, float momentum, float eps) {
    if (C > 0) VSD_LAUNCH(batchnorm_forward_kernel, C, kBnThreads, 0, y, mean, rstd, x, w, b, rmean, rvar, N, C, training, momentum, eps);
}

void batchnorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean, const float* rstd,
                        const float* w, int64_t N, int64_t C, bool training) {
    if (C > 0) VSD_LAUNCH(batchnorm_backward_kernel, C, kBnThreads, 0, dx, dw, db, dy, x, mean, rstd, w, N, C, training);
}

}  // namespace VSD_KNS
}  // namespace vsd
