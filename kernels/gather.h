// gather.h — reading rows through an index (CPU references; CUDA: gather.cu).
// The backwards scatter-add: they accumulate into dx.
#pragma once
#include <cstdint>
#include <vector>

#include "launch.h"

namespace vsd {

// gather along dim: x (outer, n, inner), index (outer, m, inner) with values in [0, n):
//   out[o, j, i] = x[o, index[o,j,i], i]
void gather_cpu(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner);
// backward (scatter-add): dx[o, index[o,j,i], i] += dout[o, j, i]
void gather_backward_cpu(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m,
                         int64_t inner);

// index_select along dim: out[o, j, i] = x[o, idx[j], i], idx of length m
void index_select_cpu(float* out, const float* x, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                      int64_t inner);
void index_select_backward_cpu(float* dx, const float* dout, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                               int64_t inner);

// The backward of index_select (and of embedding, an index_select of table rows) without atomics:
// a plan that lists, for every distinct destination row, the source rows that add into it (in
// ascending order), so one block sums them in a fixed order. From idx (length m, values in
// [0, n)): plan = [U, dest (U), offsets (U + 1), sources (m)], int64, made on the host.
std::vector<int64_t> scatter_plan(const int64_t* idx, int64_t m, int64_t n);
// dx[o, dest[u], i] += sum over k in [offsets[u], offsets[u+1]) of dout[o, sources[k], i]
void scatter_add_rows_cpu(float* dx, const float* dout, const int64_t* plan, int64_t outer, int64_t n, int64_t m,
                          int64_t inner);

// the CUDA versions (kernels/gather.cu)
VSD_LAUNCHERS(
    // plan: scatter_plan's words, in device memory; its U is also passed (the grid is U x outer)
    void scatter_add_rows(float* dx, const float* dout, const int64_t* plan, int64_t U, int64_t outer, int64_t n,
                          int64_t m, int64_t inner);
    // index_select runs as a gather whose index repeats idx along outer and inner (src/ops/gather.cpp)
    void gather(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m, int64_t inner);
    void gather_backward(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n, int64_t m,
                         int64_t inner);
)

}  // namespace vsd
