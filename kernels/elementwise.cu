/*
Unary maps and their derivatives: y = f(x), dx += f'(x) dy.   CPU reference: kernels/elementwise.cpp
The formulas themselves live in kernels/elementwise_ops.h, shared with the CPU: one definition.

Version
    1  a grid-stride loop: each thread handles elements i, i + gridDim*blockDim, ... so any n works
       with a fixed grid, and neighbouring threads touch neighbouring floats (coalesced).

Binary ops' backward, where an operand is broadcast (a bias added to every row, a per-row scale)
    many outputs add into one element of its gradient. Adding them with atomicAdd is simple, but
    the order of float additions then depends on thread scheduling, and so do the last bits of the
    gradient: two runs of the same step on a GPU would differ. Instead, each element of the
    broadcast operand's gradient is owned by one column of a 32 x 8 block: the 8 threads of the
    column sum strided parts of the reduced range, then thread 0 adds the 8 partials in a fixed
    order. Consecutive threads own consecutive elements, so reading a bias's rows is coalesced.
    An operand that is not broadcast gets a plain +=, one thread per element (no two threads share
    an element).

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
// A broadcast operand receives the gradient of many outputs (the "reduce over broadcast dims" rule):
// binary_backward_reduce_kernel sums them in a fixed order; see the header comment.

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
        // neither operand is reduced here: each of da[ia], db[ib] belongs to this output alone
        if (da) da[ia] += binary_grad(op, false, dout[o], a[ia], b[ib]);
        if (db) db[ib] += binary_grad(op, true, dout[o], a[ia], b[ib]);
    }
}

// An operand's dims split into kept ones (its own, stride != 0, or of size 1) and reduced ones
// (broadcast: stride 0 and size > 1), each listed in order with its size.
struct ReduceSplit {
    int kd[4], rd[4];
    int64_t kshape[4], rshape[4];
    int nk = 0, nr = 0;
    int64_t kept = 1, reduced = 1;
};
static ReduceSplit split_dims(const Broadcast& bc, const int64_t* stride) {
    ReduceSplit r;
    for (int d = 0; d < 4; d++) {
        if (stride[d] == 0 && bc.shape[d] > 1) {
            r.rd[r.nr] = d, r.rshape[r.nr++] = bc.shape[d], r.reduced *= bc.shape[d];
        } else {
            r.kd[r.nk] = d, r.kshape[r.nk++] = bc.shape[d], r.kept *= bc.shape[d];
        }
    }
    return r;
}

constexpr int kReduceLanes = 8;  // threads summing parts of one element's reduced range

// dX += the gradient of the broadcast operand X (b when wrt_b, else a), one element per column
// threadIdx.x of a 32 x kReduceLanes block; the lanes threadIdx.y split the reduced range.
__global__ void binary_backward_reduce_kernel(Binary op, bool wrt_b, float* dx, const float* dout, const float* a,
                                              const float* b, Broadcast bc, ReduceSplit sp) {
    __shared__ float part[kReduceLanes][32];
    const int64_t k = (int64_t)blockIdx.x * 32 + threadIdx.x;  // the kept element this column owns
    int64_t idx[4] = {0, 0, 0, 0};
    float s = 0.0f;
    if (k < sp.kept) {
        for (int64_t j = sp.nk - 1, rem = k; j >= 0; j--) idx[sp.kd[j]] = rem % sp.kshape[j], rem /= sp.kshape[j];
        for (int64_t r = threadIdx.y; r < sp.reduced; r += kReduceLanes) {
            for (int64_t j = sp.nr - 1, rem = r; j >= 0; j--) idx[sp.rd[j]] = rem % sp.rshape[j], rem /= sp.rshape[j];
            const int64_t o = ((idx[0] * bc.shape[1] + idx[1]) * bc.shape[2] + idx[2]) * bc.shape[3] + idx[3];
            int64_t ia, ib;
            bcast_offsets(bc, o, &ia, &ib);
            s += binary_grad(op, wrt_b, dout[o], a[ia], b[ib]);
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && k < sp.kept) {
        float t = 0.0f;
        for (int y = 0; y < kReduceLanes; y++) t += part[y][threadIdx.x];  // a fixed order
        const int64_t* st = wrt_b ? bc.sb : bc.sa;  // (the reduced dims' strides are 0)
        dx[idx[0] * st[0] + idx[1] * st[1] + idx[2] * st[2] + idx[3] * st[3]] += t;
    }
}

void binary_forward(Binary op, float* out, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (n) VSD_LAUNCH(binary_forward_kernel, grid1d(n), 256, 0, op, out, a, b, bc, n);
}

void binary_backward(Binary op, float* da, float* db, const float* dout, const float* a, const float* b, const Broadcast& bc) {
    const int64_t n = bc.numel();
    if (!n) return;
    const ReduceSplit ra = split_dims(bc, bc.sa), rb = split_dims(bc, bc.sb);
    const bool reduce_a = da && ra.nr > 0, reduce_b = db && rb.nr > 0;
    // the operands that are not reduced: one elementwise pass for both
    if ((da && !reduce_a) || (db && !reduce_b))
        VSD_LAUNCH(binary_backward_kernel, grid1d(n), 256, 0, op, reduce_a ? nullptr : da, reduce_b ? nullptr : db, dout, a, b, bc, n);
    if (reduce_a)
        VSD_LAUNCH(binary_backward_reduce_kernel, ceil_div(ra.kept, 32), dim3(32, kReduceLanes), 0, op, false, da, dout, a, b, bc, ra);
    if (reduce_b)
        VSD_LAUNCH(binary_backward_reduce_kernel, ceil_div(rb.kept, 32), dim3(32, kReduceLanes), 0, op, true, db, dout, a, b, bc, rb);
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
