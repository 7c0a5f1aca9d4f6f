// adamw.cpp — the AdamW update as a plain loop (the arithmetic order is the reference's: the step
// size and the bias corrections in double, each element in float).
#include "adamw.h"

#include <cmath>

namespace vsd {

void adamw_update_cpu(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                      float wd, double bc1, double bc2_sqrt) {
    const float step_size = (float)(lr / bc1);
    const float decay = 1.0f - lr * wd;
    for (int64_t i = 0; i < n; i++) {
        p[i] *= decay;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        const float denom = (float)(std::sqrt(v[i]) / bc2_sqrt) + eps;
        p[i] -= step_size * m[i] / denom;
    }
}

}  // namespace vsd
