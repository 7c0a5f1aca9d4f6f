/*
Batch norm, sorting, the GRU's gates and the AdamW update on the GPU.
CPU references: kernels/norm.cpp (batchnorm), kernels/index.cpp (sort_cpu), kernels/gru.cpp (the
gate equations inside gru_forward_cpu / gru_backward_cpu), src/train/optim.cpp (AdamW).

What they compute
    batchnorm   (N, C): per-channel statistics over the N rows (biased variance for normalising,
                unbiased for the running update, momentum as PyTorch); backward as in norm.cpp
    sort        along the middle dim of (outer, n, inner), first k of the order, stable: each element's
                output position is its rank = #{elements that come before it}, so every element is
                placed by its own thread, in parallel, and ties keep index order (O(n^2) per line:
                right for GPO's n <= ~64, and a bitonic network is the next version)
    gru gates   one time step's pointwise part: given gx (the input projections of this step's
                positions) and gh = h W_hh^T, the r, z, n gates and h'; and the backward of one step
                (the GEMMs around them use gemm)
    adamw       p = p (1 - lr wd) - lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), m and v updated first

Version
    1  one thread per output element (batchnorm: one block per channel with a shared-memory
       reduction; a barrier separates every level).
*/
#include "common.cuh"
#include "cuda_kernels.h"
#include "elementwise_ops.h"

namespace vsd {
namespace VSD_KNS {

static int64_t grid1d(int64_t n) { return n < 1 ? 1 : (ceil_div(n, 256) < 4096 ? ceil_div(n, 256) : 4096); }
#define VSD_STRIDE(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)
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

__global__ void sort_rank_kernel(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner,
                                 int64_t k, bool descending) {
    VSD_STRIDE(t, outer * n * inner) {
        const int64_t o = t / (n * inner), p = (t / inner) % n, i = t % inner;
        const float* line = x + o * n * inner + i;  // element q of this line is line[q * inner]
        const float v = line[p * inner];
        int64_t rank = 0;
        for (int64_t q = 0; q < n; q++) {
            const float u = line[q * inner];
            const bool before = descending ? nan_greater(u, v) : nan_greater(v, u);  // NaN above all, as the CPU's
            const bool tie = !nan_greater(u, v) && !nan_greater(v, u);
            if (before || (tie && q < p)) rank++;  // equal values (NaNs too) keep their index order (stable)
        }
        if (rank < k) {
            values[(o * k + rank) * inner + i] = v;
            indices[(o * k + rank) * inner + i] = p;
        }
    }
}

// One GRU step, pointwise: for every (b, j) whose sample is active at this step (pos[b] >= 0).
// gx: (B, T, 3H) input projections with b_ih; gh: (B, 3H) = h W_hh^T (without b_hh); h: (B, H) state.
__global__ void gru_gates_forward_kernel(float* y, float* h, float* r_out, float* z_out, float* n_out, float* hn_out,
                                         float* hprev_out, const float* gx, const float* gh, const float* b_hh,
                                         const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    VSD_STRIDE(t, B * H) {
        const int64_t b = t / H, j = t % H, p = pos[b];
        if (p < 0) continue;
        const int64_t o = b * T + p, G = 3 * H;
        const float hn = gh[b * G + 2 * H + j] + b_hh[2 * H + j];
        const float r = 1.0f / (1.0f + expf(-(gx[o * G + j] + gh[b * G + j] + b_hh[j])));
        const float z = 1.0f / (1.0f + expf(-(gx[o * G + H + j] + gh[b * G + H + j] + b_hh[H + j])));
        const float nn = tanhf(gx[o * G + 2 * H + j] + r * hn);
        const float hp = h[b * H + j], hnew = (1.0f - z) * nn + z * hp;
        r_out[o * H + j] = r; z_out[o * H + j] = z; n_out[o * H + j] = nn; hn_out[o * H + j] = hn; hprev_out[o * H + j] = hp;
        h[b * H + j] = hnew;
        y[o * H + j] = hnew;
    }
}

// The backward of one step, pointwise: fills dgx (per position) and dgh (per sample), and sets dh to
// the direct path g * z (the caller adds dgh W_hh with a GEMM). Inactive samples get dgh = 0.
__global__ void gru_gates_backward_kernel(float* dgx, float* dgh, float* dh, const float* dy, const float* r_in,
                                          const float* z_in, const float* n_in, const float* hn_in, const float* hprev,
                                          const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    VSD_STRIDE(t, B * H) {
        const int64_t b = t / H, j = t % H, p = pos[b], G = 3 * H;
        if (p < 0) {
            dgh[b * G + j] = dgh[b * G + H + j] = dgh[b * G + 2 * H + j] = 0.0f;
            continue;
        }
        const int64_t o = b * T + p;
        const float g = dh[b * H + j] + dy[o * H + j];
        const float r = r_in[o * H + j], z = z_in[o * H + j], nn = n_in[o * H + j], hn = hn_in[o * H + j], h0 = hprev[o * H + j];
        const float dn = g * (1.0f - z), dz = g * (h0 - nn), dan = dn * (1.0f - nn * nn);
        const float dar = dan * hn * r * (1.0f - r), daz = dz * z * (1.0f - z);
        dgx[o * G + j] = dar; dgx[o * G + H + j] = daz; dgx[o * G + 2 * H + j] = dan;
        dgh[b * G + j] = dar; dgh[b * G + H + j] = daz; dgh[b * G + 2 * H + j] = dan * r;
        dh[b * H + j] = g * z;
    }
}

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                             float wd, float bc1, float bc2_sqrt) {
    VSD_STRIDE(i, n) {
        p[i] *= 1.0f - lr * wd;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= (lr / bc1) * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
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
void sort_lines(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k, bool descending) {
    if (outer * n * inner > 0) VSD_LAUNCH(sort_rank_kernel, grid1d(outer * n * inner), 256, 0, values, indices, x, outer, n, inner, k, descending);
}
void gru_gates_forward(float* y, float* h, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                       const float* gh, const float* b_hh, const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    if (B * H > 0) VSD_LAUNCH(gru_gates_forward_kernel, grid1d(B * H), 256, 0, y, h, r, z, n, hn, hprev, gx, gh, b_hh, pos, B, T, H);
}
void gru_gates_backward(float* dgx, float* dgh, float* dh, const float* dy, const float* r, const float* z, const float* n,
                        const float* hn, const float* hprev, const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    if (B * H > 0) VSD_LAUNCH(gru_gates_backward_kernel, grid1d(B * H), 256, 0, dgx, dgh, dh, dy, r, z, n, hn, hprev, pos, B, T, H);
}
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                  float bc1, float bc2_sqrt) {
    if (n > 0) VSD_LAUNCH(adamw_kernel, grid1d(n), 256, 0, p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2_sqrt);
}

}  // namespace VSD_KNS
}  // namespace vsd
