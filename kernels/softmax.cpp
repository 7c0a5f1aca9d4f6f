// softmax.cpp — numerically stable softmax: subtract the row max before exp, so the largest term
// is e^0 = 1 and nothing overflows; the sum is then >= 1 and log(sum) is safe.
//
//   softmax(x)_k     = e^(x_k - m) / Z,          m = max_j x_j,  Z = sum_j e^(x_j - m)
//   log_softmax(x)_k = x_k - m - log Z
#include "softmax.h"

#include <cmath>
#include <limits>

namespace vsd {

void softmax_forward_cpu(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * n;
        const float* mr = mask ? mask + r * n : nullptr;
        float* yr = y + r * n;
        // 1. max over the kept positions
        float m = neg_inf;
        for (int64_t k = 0; k < n; k++)
            if (!mr || mr[k] != 0.0f) m = xr[k] > m ? xr[k] : m;
        if (m == neg_inf) {  // empty or fully masked row
            for (int64_t k = 0; k < n; k++) yr[k] = log ? neg_inf : 0.0f;
            continue;
        }
        // 2. Z = sum of exp(x - m) over kept positions (double: rows can be long)
        double z = 0.0;
        for (int64_t k = 0; k < n; k++)
            if (!mr || mr[k] != 0.0f) z += std::exp((double)xr[k] - m);
        // 3. normalise
        float logz = (float)std::log(z);
        for (int64_t k = 0; k < n; k++) {
            bool keep = !mr || mr[k] != 0.0f;
            if (log) yr[k] = keep ? xr[k] - m - logz : neg_inf;
            else yr[k] = keep ? (float)(std::exp((double)xr[k] - m) / z) : 0.0f;
        }
    }
}

void softmax_backward_cpu(float* dx, const float* dy, const float* y, const float* mask, int64_t rows, int64_t n,
                          bool log) {
    for (int64_t r = 0; r < rows; r++) {
        const float* dyr = dy + r * n;
        const float* yr = y + r * n;
        const float* mr = mask ? mask + r * n : nullptr;
        float* dxr = dx + r * n;
        double s = 0.0;  // softmax: <dy, y>;  log_softmax: sum(dy)
        for (int64_t k = 0; k < n; k++)
            if (!mr || mr[k] != 0.0f) s += log ? dyr[k] : (double)dyr[k] * yr[k];
        for (int64_t k = 0; k < n; k++) {
            if (mr && mr[k] == 0.0f) continue;
            if (log) dxr[k] += dyr[k] - std::exp(yr[k]) * (float)s;
            else dxr[k] += yr[k] * (dyr[k] - (float)s);
        }
    }
}

}  // namespace vsd
