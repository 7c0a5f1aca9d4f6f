/*
masked_fill and where on the GPU.                    CPU reference: kernels/select.cpp

What they compute
    masked_fill   out = mask ? value : x, the mask broadcast into x's shape (backward: dx += dout where
                  the mask is 0)
    where         out = cond ? a : b, cond broadcast
The backwards are the same kernels with zeros for the other side (src/ops/select.cpp).

Version
    1  the grid-stride loop of common.cuh, one thread per output element (a data-movement kernel).
*/
#include "common.cuh"
#include "elementwise_ops.h"
#include "select.h"

namespace vsd {
namespace VSD_KNS {

__global__ void masked_fill_kernel(float* out, const float* x, const float* mask, float value, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: masked_fill_cpu) bc.sa: x, bc.sb: mask
        int64_t ix, im;
        bcast_offsets(bc, o, &ix, &im);
        out[o] = mask[im] != 0.0f ? value : x[ix];
    }
}

__global__ void masked_fill_backward_kernel(float* dx, const float* dout, const float* mask, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: masked_fill_backward_cpu) filled positions get nothing
        int64_t ix, im;
        bcast_offsets(bc, o, &ix, &im);
        if (mask[im] == 0.0f) dx[ix] += dout[o];
    }
}

__global__ void where_kernel(float* out, const float* cond, const float* a, const float* b, Broadcast bc, int64_t n) {
    VSD_GRID_STRIDE(o, n) {  // (reference: where_cpu) bc.sb: cond
        int64_t unused, ic;
        bcast_offsets(bc, o, &unused, &ic);
        out[o] = cond[ic] != 0.0f ? a[o] : b[o];
    }
}

void masked_fill(float* out, const float* x, const float* mask, float value, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(masked_fill_kernel, grid1d(n), 256, 0, out, x, mask, value, bc, n);
}

void masked_fill_backward(float* dx, const float* dout, const float* mask, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(masked_fill_backward_kernel, grid1d(n), 256, 0, dx, dout, mask, bc, n);
}

void where(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(where_kernel, grid1d(n), 256, 0, out, cond, a, b, bc, n);
}

}  // namespace VSD_KNS
}  // namespace vsd
