// index.h — moving elements around: slices, permutes, gathers, masks, embedding rows, dropout,
// sorting (CPU references). "accumulate" variants add instead of overwrite (used by backward).
#pragma once
#include <cstdint>

#include "elementwise.h"  // Broadcast

namespace vsd {

// Copy a slab along one dim. Both tensors are viewed as (outer, n, inner) with their own n:
//   dst[o, dst_start + k, i] (=|+=) src[o, src_start + k, i]   for k < len
// narrow, concat and their backwards are all this one loop.
void slab_copy_cpu(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start,
                   int64_t len, int64_t outer, int64_t inner, bool accumulate);

// out = permute(in, perm): out dim k is in dim perm[k]. in_shape padded to 4 dims (leading 1s).
void permute_cpu(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate);

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

// masked_fill: out = mask ? value : x, mask broadcast into x's shape (bc.sa: x, bc.sb: mask)
void masked_fill_cpu(float* out, const float* x, const float* mask, float value, const Broadcast& bc);
void masked_fill_backward_cpu(float* dx, const float* dout, const float* mask, const Broadcast& bc);

// where: out = cond ? a : b   (a, b, out same shape; cond broadcast: bc.sb is cond's strides)
void where_cpu(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc);
void where_backward_cpu(float* da, float* db, const float* dout, const float* cond, const Broadcast& bc);

// embedding: out[r, :] = table[ids[r], :]   table (V, D), ids (rows,)
void embedding_forward_cpu(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D);
// dtable[ids[r], :] += dout[r, :]   (a row used twice collects both gradients)
void embedding_backward_cpu(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D);

// dropout: y = x * dropout_scale(seed, i, p) (elementwise_ops.h: 0 with probability p, else
// 1/(1-p), from a hash of (seed, i)); backward dx += dy * the same scale, recomputed, not stored
void dropout_forward_cpu(float* y, const float* x, int64_t n, float p, uint64_t seed);
void dropout_backward_cpu(float* dx, const float* dy, int64_t n, float p, uint64_t seed);

// sort along dim: x (outer, n, inner) -> the first k of the sorted order, values (outer, k, inner)
// and source indices (outer, k, inner). Stable: equal values keep their original order.
// k = n is a full sort; k < n is top-k. Backward is gather_backward_cpu with these indices.
void sort_cpu(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t k,
              bool descending);

// pairwise Euclidean distance: a (N, D), b (M, D) -> out (N, M), out[i,j] = ||a_i - b_j||
void cdist_forward_cpu(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D);
// da_i += sum_j dout[i,j] (a_i - b_j) / out[i,j];  db_j -= likewise   (0 where the distance is 0)
void cdist_backward_cpu(float* da, float* db, const float* dout, const float* out, const float* a, const float* b,
                        int64_t N, int64_t M, int64_t D);

}  // namespace vsd
