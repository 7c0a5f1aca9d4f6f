/*
y = x^3 on the GPU: the worked example of adding an op.   CPU reference: kernels/cube.cpp

Version
    1  one thread per element, a grid-stride loop (common.cuh): any n, any grid.
*/
#include "common.cuh"
#include "cube.h"

namespace vsd {
namespace VSD_KNS {

__global__ void cube_forward_kernel(float* y, const float* x, int64_t n) {
    VSD_GRID_STRIDE(i, n) y[i] = x[i] * x[i] * x[i];
}

__global__ void cube_backward_kernel(float* dx, const float* dy, const float* x, int64_t n) {
    VSD_GRID_STRIDE(i, n) dx[i] += 3.0f * x[i] * x[i] * dy[i];
}

void cube_forward(float* y, const float* x, int64_t n) {
    if (n > 0) VSD_LAUNCH(cube_forward_kernel, grid1d(n), 256, 0, y, x, n);
}

void cube_backward(float* dx, const float* dy, const float* x, int64_t n) {
    if (n > 0) VSD_LAUNCH(cube_backward_kernel, grid1d(n), 256, 0, dx, dy, x, n);
}

}  // namespace VSD_KNS
}  // namespace vsd
