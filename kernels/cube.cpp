// cube.cpp — y = x^3 as plain loops (the worked example; see kernels/cube.h).
#include "cube.h"

namespace vsd {

void cube_forward_cpu(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i] * x[i];
}

// dy/dx = 3 x^2. Gradients accumulate (+=): x may feed several ops.
void cube_backward_cpu(float* dx, const float* dy, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] += 3.0f * x[i] * x[i] * dy[i];
}

}  // namespace vsd
