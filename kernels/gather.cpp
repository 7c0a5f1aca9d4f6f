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

std::vector<int64_t> scatter_plan(const int64_t* idx, int64_t m, int64_t n) {
    // a counting sort of the sources by destination (stable: ascending source order within each)
    std::vector<int64_t> count(n + 1, 0);
    for (int64_t j = 0; j < m; j++) count[idx[j] + 1]++;
    int64_t U = 0;
    for (int64_t d = 0; d < n; d++) U += count[d + 1] > 0;
    std::vector<int64_t> plan(1 + U + (U + 1) + m);
    int64_t *dest = plan.data() + 1, *off = dest + U, *src = off + U + 1;
    plan[0] = U;
    std::vector<int64_t> start(n, 0);  // where each destination's sources begin in src
    for (int64_t d = 0, pos = 0, u = 0; d < n; d++) {
        start[d] = pos;
        if (count[d + 1] == 0) continue;
        dest[u] = d;
        off[u++] = pos;
        pos += count[d + 1];
    }
    off[U] = m;
    for (int64_t j = 0; j < m; j++) src[start[idx[j]]++] = j;
    return plan;
}

void scatter_add_rows_cpu(float* dx, const float* dout, const int64_t* plan, int64_t outer, int64_t n, int64_t m,
                          int64_t inner) {
    const int64_t U = plan[0];
    const int64_t *dest = plan + 1, *off = dest + U, *src = off + U + 1;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t u = 0; u < U; u++)
            for (int64_t i = 0; i < inner; i++) {
                float acc = 0.0f;
                for (int64_t k = off[u]; k < off[u + 1]; k++) acc += dout[(o * m + src[k]) * inner + i];
                dx[(o * n + dest[u]) * inner + i] += acc;
            }
}

}  // namespace vsd
