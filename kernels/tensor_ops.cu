/*
The data-movement and broadcasting ops on the GPU.   CPU references: kernels/elementwise.cpp,
kernels/reduce.cpp, kernels/index.cpp (each kernel below names its reference function).

What they compute (see the CPU headers for the exact index rules)
    binary_forward/backward   out = a (op) b with numpy broadcasting over a 4-d frame; the backward
                              adds into da/db, with atomicAdd because a broadcast operand receives
                              the gradient of many outputs (the "reduce over broadcast dims" rule)
    sum_dim / max_dim         reductions along one dim of an (outer, n, inner) view
    masked_fill, where        selections with a broadcast mask
    gather (+ backward)       out[o, j, i] = x[o, index[o,j,i], i]; the backward scatters (atomics)
    permute                   out dim k = in dim perm[k]
    slab_copy                 rows [start, start+len) of the middle axis: narrow and concat
    dropout                   y = x * dropout_scale(seed, i, p): a counter-based draw per element
                              (elementwise_ops.h), so the CPU and the GPU drop the same elements and
                              nothing is drawn on the host or stored for the backward
    cdist                     out[i, j] = ||a_i - b_j||

Version
    1  one thread per output element, a grid-stride loop over the flattened output: simple and
       coalesced for the output; these ops move data and do ~no arithmetic, so they are bound by
       memory bandwidth (report GB/s). Faster variants (vectorised loads, shared-memory transposes
       for permute) can be added as version 2 when the bench says they pay.
*/
#include "common.cuh"
#include "cuda_kernels.h"
#include "elementwise_ops.h"

namespace vsd {
namespace VSD_KNS {

static int64_t grid1d(int64_t n) { return n < 1 ? 1 : (ceil_div(n, 256) < 4096 ? ceil_div(n, 256) : 4096); }
#define VSD_GRID_STRIDE(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// flat output index -> offsets into a and b through the broadcast strides
__device__ inline void bcast_offsets(const Broadcast& bc, int64_t o, int64_t* ia, int64_t* ib) {
    const int64_t i3 = o % bc.shape[3], i2 = (o / bc.shape[3]) % bc.shape[2];
    const int64_t i1 = (o / (bc.shape[3] * bc.shape[2])) % bc.shape[1], i0 = o / (bc.shape[3] * bc.shape[2] * bc.shape[1]);
    *ia = i0 * bc.sa[0] + i1 * bc.sa[1] + i2 * bc.sa[2] + i3 * bc.sa[3];
    *ib = i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2] + i3 * bc.sb[3];
}

__global__ void binary_forward_kernel(Binary op, float* out, const float* a, const float* b, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {
        int64_t ia, ib;
        bcast_offsets(bc, o, &ia, &ib);
        out[o] = binary_f(op, a[ia], b[ib]);
    }
}

__global__ void binary_backward_kernel(Binary op, float* da, float* db, const float* dout, const float* a, const float* b,
                                       Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: binary_backward_cpu)
        int64_t ia, ib;
        bcast_offsets(bc, o, &ia, &ib);
        const float g = dout[o];
        float ga = g, gb = g;
        if (op == Binary::Sub) gb = -g;
        else if (op == Binary::Mul) { ga = g * b[ib]; gb = g * a[ia]; }
        else if (op == Binary::Div) { ga = g / b[ib]; gb = -g * a[ia] / (b[ib] * b[ib]); }
        if (da) atomicAdd(&da[ia], ga);
        if (db) atomicAdd(&db[ib], gb);
    }
}

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

__global__ void masked_fill_kernel(float* out, const float* x, const float* mask, float value, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: masked_fill_cpu) bc.sa: x, bc.sb: mask
        int64_t ix, im;
        bcast_offsets(bc, o, &ix, &im);
        out[o] = mask[im] != 0.0f ? value : x[ix];
    }
}

__global__ void where_kernel(float* out, const float* cond, const float* a, const float* b, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: where_cpu) bc.sb: cond
        int64_t unused, ic;
        bcast_offsets(bc, o, &unused, &ic);
        out[o] = cond[ic] != 0.0f ? a[o] : b[o];
    }
}

__global__ void gather_kernel(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    VSD_GRID_STRIDE(t, outer * m * inner) {  // (reference: gather_cpu)
        const int64_t o = t / (m * inner), i = t % inner;
        out[t] = x[(o * n + index[t]) * inner + i];
    }
}

__global__ void gather_backward_kernel(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m,
                                       int64_t inner) {
    VSD_GRID_STRIDE(t, outer * m * inner) {  // (reference: gather_backward_cpu) a scatter: atomics
        const int64_t o = t / (m * inner), i = t % inner;
        atomicAdd(&dx[(o * n + index[t]) * inner + i], dout[t]);
    }
}

struct Perm4 { int64_t os[4], st[4]; };

__global__ void permute_kernel(float* out, const float* in, Perm4 p, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: permute_cpu) output index -> input offset through the permuted strides
        const int64_t j3 = o % p.os[3], j2 = (o / p.os[3]) % p.os[2], j1 = (o / (p.os[3] * p.os[2])) % p.os[1];
        const int64_t j0 = o / (p.os[3] * p.os[2] * p.os[1]);
        out[o] = in[j0 * p.st[0] + j1 * p.st[1] + j2 * p.st[2] + j3 * p.st[3]];
    }
}

__global__ void slab_copy_kernel(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n,
                                 int64_t src_start, int64_t len, int64_t outer, int64_t inner, bool accumulate) {
    VSD_GRID_STRIDE(t, outer * len * inner) {  // (reference: slab_copy_cpu)
        const int64_t o = t / (len * inner), k = (t / inner) % len, i = t % inner;
        const float v = src[(o * src_n + src_start + k) * inner + i];
        float* d = &dst[(o * dst_n + dst_start + k) * inner + i];
        if (accumulate) *d += v;
        else *d = v;
    }
}

__global__ void dropout_forward_kernel(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    VSD_GRID_STRIDE(i, n) y[i] = x[i] * dropout_scale(seed, i, p);  // (reference: dropout_forward_cpu)
}

__global__ void dropout_backward_kernel(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    VSD_GRID_STRIDE(i, n) dx[i] += dy[i] * dropout_scale(seed, i, p);  // (reference: dropout_backward_cpu)
}

__global__ void cdist_kernel(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
    VSD_GRID_STRIDE(t, N * M) {  // (reference: cdist_forward_cpu)
        const int64_t i = t / M, j = t % M;
        float s = 0.0f;
        for (int64_t d = 0; d < D; d++) {
            const float diff = a[i * D + d] - b[j * D + d];
            s += diff * diff;
        }
        out[t] = sqrtf(s);
    }
}

// d||a_i - b_j|| / da_i = (a_i - b_j) / ||a_i - b_j||, 0 at distance 0. Each thread owns one gradient
// element and sums over the other side, so there are no atomics: da[i, k] sums over j, db[j, k] over i.
__global__ void cdist_backward_kernel(float* da, float* db, const float* dout, const float* out, const float* a,
                                      const float* b, int64_t N, int64_t M, int64_t D) {
    const int64_t na = da ? N * D : 0, nb = db ? M * D : 0;
    VSD_GRID_STRIDE(t, na + nb) {  // (reference: cdist_backward_cpu)
        if (t < na) {
            const int64_t i = t / D, k = t % D;
            float s = 0.0f;
            for (int64_t j = 0; j < M; j++)
                if (out[i * M + j] > 0.0f) s += dout[i * M + j] * (a[i * D + k] - b[j * D + k]) / out[i * M + j];
            da[t] += s;
        } else {
            const int64_t u = t - na, j = u / D, k = u % D;
            float s = 0.0f;
            for (int64_t i = 0; i < N; i++)
                if (out[i * M + j] > 0.0f) s += dout[i * M + j] * (b[j * D + k] - a[i * D + k]) / out[i * M + j];
            db[u] += s;
        }
    }
}

void binary_forward(Binary op, float* out, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(binary_forward_kernel, grid1d(n), 256, 0, op, out, a, b, bc, n);
}
void binary_backward(Binary op, float* da, float* db, const float* dout, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(binary_backward_kernel, grid1d(n), 256, 0, op, da, db, dout, a, b, bc, n);
}
void sum_dim(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale) {
    if (outer * inner > 0) VSD_LAUNCH(sum_dim_kernel, grid1d(outer * inner), 256, 0, y, x, outer, n, inner, scale);
}
void max_dim(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner) {
    if (outer * inner > 0) VSD_LAUNCH(max_dim_kernel, grid1d(outer * inner), 256, 0, y, idx, x, outer, n, inner);
}
void masked_fill(float* out, const float* x, const float* mask, float value, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(masked_fill_kernel, grid1d(n), 256, 0, out, x, mask, value, bc, n);
}
void where(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(where_kernel, grid1d(n), 256, 0, out, cond, a, b, bc, n);
}
void gather(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_kernel, grid1d(outer * m * inner), 256, 0, out, x, index, outer, n, m, inner);
}
void gather_backward(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_backward_kernel, grid1d(outer * m * inner), 256, 0, dx, dout, index, outer, n, m, inner);
}
void permute(float* out, const float* in, const int64_t in_shape[4], const int perm[4]) {
    Perm4 p;
    int64_t stride[4];
    stride[3] = 1;
    for (int d = 2; d >= 0; d--) stride[d] = stride[d + 1] * in_shape[d + 1];
    for (int k = 0; k < 4; k++) { p.os[k] = in_shape[perm[k]]; p.st[k] = stride[perm[k]]; }
    const int64_t n = p.os[0] * p.os[1] * p.os[2] * p.os[3];
    if (n) VSD_LAUNCH(permute_kernel, grid1d(n), 256, 0, out, in, p, n);
}
void slab_copy(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start, int64_t len,
               int64_t outer, int64_t inner, bool accumulate) {
    const int64_t n = outer * len * inner;
    if (n) VSD_LAUNCH(slab_copy_kernel, grid1d(n), 256, 0, dst, dst_n, dst_start, src, src_n, src_start, len, outer, inner, accumulate);
}
void dropout_forward(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    if (n) VSD_LAUNCH(dropout_forward_kernel, grid1d(n), 256, 0, y, x, n, p, seed);
}

void dropout_backward(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    if (n) VSD_LAUNCH(dropout_backward_kernel, grid1d(n), 256, 0, dx, dy, n, p, seed);
}
void cdist(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
    if (N * M > 0) VSD_LAUNCH(cdist_kernel, grid1d(N * M), 256, 0, out, a, b, N, M, D);
}
void cdist_backward(float* da, float* db, const float* dout, const float* out, const float* a, const float* b, int64_t N,
                    int64_t M, int64_t D) {
    const int64_t n = (da ? N * D : 0) + (db ? M * D : 0);
    if (n) VSD_LAUNCH(cdist_backward_kernel, grid1d(n), 256, 0, da, db, dout, out, a, b, N, M, D);
}

}  // namespace VSD_KNS
}  // namespace vsd
