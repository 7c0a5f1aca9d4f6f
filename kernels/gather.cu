/*
gather and its backward on the GPU.                  CPU reference: kernels/gather.cpp

What they compute
    gather            out[o, j, i] = x[o, index[o,j,i], i]
    gather_backward   dx[o, index[o,j,i], i] += dout[o, j, i]: a scatter, with atomics (two j may
                      name the same row; on a GPU the order of such adds varies)

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

void gather(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_kernel, grid1d(outer * m * inner), 256, 0, out, x, index, outer, n, m, inner);
}

void gather_backward(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    if (outer * m * inner > 0) VSD_LAUNCH(gather_backward_kernel, grid1d(outer * m * inner), 256, 0, dx, dout, index, outer, n, m, inner);
}

}  // namespace VSD_KNS
}  // namespace vsd
