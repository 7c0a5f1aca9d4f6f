// gather.cpp — gather and index_select as plain loops; the backwards scatter-add.
#include "gather.h"


namespace vsd {

void gather_cpu(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t src = index[(o * m + j) * inner + i];  // which row along dim to take
                out[(o * m + j) * inner + i] = x[(o * n + src) * inner + i];
            }
}

void gather_backward_cpu(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m,
                         int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t src = index[(o * m + j) * inner + i];
                dx[(o * n + src) * inner + i] += dout[(o * m + j) * inner + i];  // scatter back, accumulate
            }
}

void index_select_cpu(float* out, const float* x, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                      int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            std::copy(x + (o * n + idx[j]) * inner, x + (o * n + idx[j] + 1) * inner, out + (o * m + j) * inner);
}

void index_select_backward_cpu(float* dx, const float* dout, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                               int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < inner; i++) dx[(o * n + idx[j]) * inner + i] += dout[(o * m + j) * inner + i];
}

}  // namespace vsd
