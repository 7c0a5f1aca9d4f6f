// index.cpp — data movement as plain loops. None of these do arithmetic worth the name; what
// matters is which index goes where, so every loop says it in its comment.
#include "index.h"

#include "elementwise_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace vsd {

void slab_copy_cpu(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start,
                   int64_t len, int64_t outer, int64_t inner, bool accumulate) {
    for (int64_t o = 0; o < outer; o++) {
        // rows [start, start+len) of the middle axis are contiguous: len*inner floats
        float* d = dst + (o * dst_n + dst_start) * inner;
        const float* s = src + (o * src_n + src_start) * inner;
        if (accumulate)
            for (int64_t t = 0; t < len * inner; t++) d[t] += s[t];
        else
            std::copy(s, s + len * inner, d);
    }
}

void permute_cpu(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate) {
    // strides of the input (row-major), then the output walks its own index (j0..j3) where
    // output dim k has size in_shape[perm[k]] and steps through the input by in_stride[perm[k]].
    int64_t in_stride[4];
    in_stride[3] = 1;
    for (int d = 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * in_shape[d + 1];
    int64_t os[4], st[4];
    for (int k = 0; k < 4; k++) { os[k] = in_shape[perm[k]]; st[k] = in_stride[perm[k]]; }
    int64_t o = 0;
    for (int64_t j0 = 0; j0 < os[0]; j0++)
        for (int64_t j1 = 0; j1 < os[1]; j1++)
            for (int64_t j2 = 0; j2 < os[2]; j2++)
                for (int64_t j3 = 0; j3 < os[3]; j3++, o++) {
                    float v = in[j0 * st[0] + j1 * st[1] + j2 * st[2] + j3 * st[3]];
                    if (accumulate) out[o] += v;
                    else out[o] = v;
                }
}

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

void embedding_forward_cpu(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D) {
    for (int64_t r = 0; r < rows; r++) std::copy(table + ids[r] * D, table + (ids[r] + 1) * D, out + r * D);
}

void embedding_backward_cpu(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t d = 0; d < D; d++) dtable[ids[r] * D + d] += dout[r * D + d];
}

void dropout_forward_cpu(float* y, const float* x, int64_t n, float p, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * dropout_scale(seed, i, p);
}

void dropout_backward_cpu(float* dx, const float* dy, int64_t n, float p, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * dropout_scale(seed, i, p);
}

void sort_cpu(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k,
              bool descending) {
    // Each line (o, :, i) is gathered into a contiguous buffer first: the line itself is strided by
    // `inner` in memory, and sorting through that stride would miss the cache on every access.
    // Short lines (GPO sorts 36 regions or ~20 tokens per feature) use insertion sort, which is
    // stable and fast at that size; long lines use std::stable_sort.
#pragma omp parallel if (outer * inner * n > 32768)
    {
        std::vector<float> v(n);
        std::vector<int64_t> order(n);
#pragma omp for collapse(2) schedule(static)
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const float* col = x + o * n * inner + i;
                for (int64_t t = 0; t < n; t++) { v[t] = col[t * inner]; order[t] = t; }
                // NaN sorts above every number (first when descending), as PyTorch's sort and topk
                auto before = [&](int64_t p, int64_t q) { return descending ? nan_greater(v[p], v[q]) : nan_greater(v[q], v[p]); };
                if (n <= 64) {
                    for (int64_t t = 1; t < n; t++) {  // insertion sort: stable (strict comparison)
                        int64_t cur = order[t], u = t;
                        while (u > 0 && before(cur, order[u - 1])) { order[u] = order[u - 1]; u--; }
                        order[u] = cur;
                    }
                } else {
                    std::stable_sort(order.begin(), order.end(), before);  // ties keep index order
                }
                for (int64_t t = 0; t < k; t++) {
                    values[(o * k + t) * inner + i] = v[order[t]];
                    indices[(o * k + t) * inner + i] = order[t];
                }
            }
    }
}

void cdist_forward_cpu(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D) {
#pragma omp parallel for if (N * M * D > 65536)
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < M; j++) {
            double s = 0.0;
            for (int64_t d = 0; d < D; d++) {
                double t = (double)a[i * D + d] - b[j * D + d];
                s += t * t;
            }
            out[i * M + j] = (float)std::sqrt(s);
        }
}

void cdist_backward_cpu(float* da, float* db, const float* dout, const float* out, const float* a, const float* b,
                        int64_t N, int64_t M, int64_t D) {
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < M; j++) {
            float dist = out[i * M + j];
            if (dist == 0.0f) continue;  // the gradient of ||.|| at 0 is taken as 0 (PyTorch does too)
            float g = dout[i * M + j] / dist;
            for (int64_t d = 0; d < D; d++) {
                float diff = a[i * D + d] - b[j * D + d];
                if (da) da[i * D + d] += g * diff;
                if (db) db[j * D + d] -= g * diff;
            }
        }
}

}  // namespace vsd
