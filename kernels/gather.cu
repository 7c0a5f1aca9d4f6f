/*
gather and its backward on the GPU.                  CPU reference: kernels/gather.cpp

What they compute
    gather            out[o, j, i] = x[o, index[o,j,i], i]
    gather_backward   dx[o, index[o,j,i], i] += dout[o, j, i]: a scatter, with atomics (two j may
                      name the same row; on a GPU the order of such adds varies). The ops use it
                      where every destination receives one add (sort's permutations, max's argmax),
                      which makes the order irrelevant.
    scatter_add_rows  index_select's and embedding's backward, where a row (a word) is often named
                      twice: a plan made on the host lists each destination row's sources, and one
                      block per (destination, outer) sums them in that order. No atomics: the same
                      bits on every run.

Version
    1  the grid-stride loop of common.cuh, one thread per output element (a data-movement kernel).
*/
#include "common.cuh"
#include "gather.h"

namespace vsd {
namespace VSD_KNS {

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

__global__ void scatter_add_rows_kernel(float* dx, const float* dout, const int64_t* plan, int64_t n, int64_t m,
                                        int64_t inner) {
    const int64_t U = plan[0], u = blockIdx.x, o = blockIdx.y;
    const int64_t *dest = plan + 1, *off = dest + U, *src = off + U + 1;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {  // consecutive threads, consecutive floats
        float acc = 0.0f;
        for (int64_t k = off[u]; k < off[u + 1]; k++) acc += dout[(o * m + src[k]) * inner + i];
        dx[(o * n + dest[u]) * inner + i] += acc;
    }
}

void scatter_add_rows(float* dx, const float* dout, const int64_t* plan, int64_t U, int64_t outer, int64_t n, int64_t m,
                      int64_t inner) {
    if (U > 0 && outer > 0 && inner > 0)
        VSD_LAUNCH(scatter_add_rows_kernel, dim3((unsigned)U, (unsigned)outer), 128, 0, dx, dout, plan, n, m, inner);
}

void gather(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_kernel, grid1d(outer * m * inner), 256, 0, out, x, index, outer, n, m, inner);
}

void gather_backward(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_backward_kernel, grid1d(outer * m * inner), 256, 0, dx, dout, index, outer, n, m, inner);
}

}  // namespace VSD_KNS
}  // namespace vsd
