/*
Unary maps and their derivatives: y = f(x), dx += f'(x) dy.   CPU reference: kernels/elementwise.cpp
The formulas themselves live in kernels/elementwise_ops.h, shared with the CPU: one definition.

Version
    1  a grid-stride loop: each thread handles elements i, i + gridDim*blockDim, ... so any n works
       with a fixed grid, and neighbouring threads touch neighbouring floats (coalesced).

Napkin math
    forward: 8 bytes per element (read x, write y); backward: 16 (x, y, dy, dx). Bandwidth-bound:
    ~4.8 TB/s on an H200 is ~600 G elements/s for the forward.
*/
#include "common.cuh"
#include "elementwise.h"
#include "elementwise_ops.h"

namespace vsd {
namespace VSD_KNS {

__global__ void unary_forward_kernel(Unary op, float* y, const float* x, int64_t n, float a, float b) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = unary_f(op, x[i], a, b);
}

__global__ void unary_backward_kernel(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n,
                                      float a, float b) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dx[i] += unary_df(op, x[i], y[i], a, b) * dy[i];
}

static int64_t grid_for(int64_t n) { return n < 1 ? 1 : (ceil_div(n, 256) < 1024 ? ceil_div(n, 256) : 1024); }

void unary_forward(Unary op, float* y, const float* x, int64_t n, float a, float b) {
    if (n == 0) return;
    VSD_LAUNCH(unary_forward_kernel, grid_for(n), 256, 0, op, y, x, n, a, b);
}

void unary_backward(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a, float b) {
    if (n == 0) return;
    VSD_LAUNCH(unary_backward_kernel, grid_for(n), 256, 0, op, dx, dy, x, y, n, a, b);
}

// ---- binary ops with numpy broadcasting (reference: binary_forward_cpu / binary_backward_cpu) ----
// The backward adds into da/db with atomicAdd: a broadcast operand receives the gradient of many
// outputs (the "reduce over broadcast dims" rule).

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

void binary_forward(Binary op, float* out, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(binary_forward_kernel, grid1d(n), 256, 0, op, out, a, b, bc, n);
}

void binary_backward(Binary op, float* da, float* db, const float* dout, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(binary_backward_kernel, grid1d(n), 256, 0, op, da, db, dout, a, b, bc, n);
}

// an index tensor as floats, one thread per element
template <class I>
__global__ void to_float_kernel(float* y, const I* x, int64_t n) {
    VSD_GRID_STRIDE(i, n) y[i] = (float)x[i];
}
void i64_to_float(float* y, const int64_t* x, int64_t n) {
    if (n > 0) VSD_LAUNCH(to_float_kernel<int64_t>, grid1d(n), 256, 0, y, x, n);
}
void i32_to_float(float* y, const int32_t* x, int64_t n) {
    if (n > 0) VSD_LAUNCH(to_float_kernel<int32_t>, grid1d(n), 256, 0, y, x, n);
}

}  // namespace VSD_KNS
}  // namespace vsd
