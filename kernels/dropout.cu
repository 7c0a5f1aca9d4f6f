/*
Dropout on the GPU.                                   CPU reference: kernels/dropout.cpp

What it computes
    y = x * dropout_scale(seed, i, p): a counter-based draw per element (elementwise_ops.h), so
    the CPU and the GPU drop the same elements and nothing is drawn on the host or stored for the
    backward, which recomputes the scale: dx += dy * dropout_scale(seed, i, p)

Version
    1  the grid-stride loop of common.cuh, one thread per output element (a data-movement kernel).
*/
#include "common.cuh"
#include "dropout.h"
#include "elementwise_ops.h"

namespace vsd {
namespace VSD_KNS {

__global__ void dropout_forward_kernel(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    VSD_GRID_STRIDE(i, n) y[i] = x[i] * dropout_scale(seed, i, p);  // (reference: dropout_forward_cpu)
}

__global__ void dropout_backward_kernel(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    VSD_GRID_STRIDE(i, n) dx[i] += dy[i] * dropout_scale(seed, i, p);  // (reference: dropout_backward_cpu)
}

void dropout_forward(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    if (n) VSD_LAUNCH(dropout_forward_kernel, grid1d(n), 256, 0, y, x, n, p, seed);
}

void dropout_backward(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    if (n) VSD_LAUNCH(dropout_backward_kernel, grid1d(n), 256, 0, dx, dy, n, p, seed);
}

}  // namespace VSD_KNS
}  // namespace vsd
