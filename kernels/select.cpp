// select.cpp — masked_fill and where as plain loops over the broadcast frame.
#include "select.h"


namespace vsd {

// Walk a 4-D broadcast frame: f(o, offset_in_a, offset_in_b) for every output element o.
template <class F>
static void for_each_bcast(const Broadcast& bc, F f) {
    int64_t o = 0;
    for (int64_t i0 = 0; i0 < bc.shape[0]; i0++)
        for (int64_t i1 = 0; i1 < bc.shape[1]; i1++)
            for (int64_t i2 = 0; i2 < bc.shape[2]; i2++)
                for (int64_t i3 = 0; i3 < bc.shape[3]; i3++, o++)
                    f(o, i0 * bc.sa[0] + i1 * bc.sa[1] + i2 * bc.sa[2] + i3 * bc.sa[3],
                      i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2] + i3 * bc.sb[3]);
}

void masked_fill_cpu(float* out, const float* x, const float* mask, float value, const Broadcast& bc) {
    // x has the output's shape (only the mask broadcasts), so rows are independent
    const int64_t rows = bc.shape[0] * bc.shape[1] * bc.shape[2], n = bc.shape[3];
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i0 = r / (bc.shape[1] * bc.shape[2]), i1 = (r / bc.shape[2]) % bc.shape[1], i2 = r % bc.shape[2];
        const float* m = mask + i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2];
        for (int64_t i3 = 0; i3 < n; i3++) out[r * n + i3] = m[i3 * bc.sb[3]] != 0.0f ? value : x[r * n + i3];
    }
}

void masked_fill_backward_cpu(float* dx, const float* dout, const float* mask, const Broadcast& bc) {
    // filled positions are constants: no gradient flows to x there (x has the output's shape)
    const int64_t rows = bc.shape[0] * bc.shape[1] * bc.shape[2], n = bc.shape[3];
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i0 = r / (bc.shape[1] * bc.shape[2]), i1 = (r / bc.shape[2]) % bc.shape[1], i2 = r % bc.shape[2];
        const float* m = mask + i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2];
        for (int64_t i3 = 0; i3 < n; i3++)
            if (m[i3 * bc.sb[3]] == 0.0f) dx[r * n + i3] += dout[r * n + i3];
    }
}

void where_cpu(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc) {
    for_each_bcast(bc, [&](int64_t o, int64_t, int64_t ic) { out[o] = cond[ic] != 0.0f ? a[o] : b[o]; });
}

void where_backward_cpu(float* da, float* db, const float* dout, const float* cond, const Broadcast& bc) {
    for_each_bcast(bc, [&](int64_t o, int64_t, int64_t ic) {
        if (cond[ic] != 0.0f) { if (da) da[o] += dout[o]; }
        else if (db) db[o] += dout[o];
    });
}

}  // namespace vsd
