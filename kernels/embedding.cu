/*
Embedding lookup and its backward.                       CPU reference: kernels/embedding.cpp

What it computes
    out[r, :] = table[ids[r], :]                 table (V, D), ids (rows,), out (rows, D)
    backward: dtable[ids[r], :] += dout[r, :]    (a word used twice gets both gradients)

Versions
    1  one block per row, threads across D (coalesced). The backward scatters with atomicAdd,
       because two rows may name the same id; on a GPU the summation order of such a pair varies,
       so two runs differ in the last bits.
    2  the backward the op runs: gather.cu's scatter_add_rows, which sums each word's rows in a
       fixed order from a plan made on the host (the ids are there anyway, range-checked).

Napkin math
    rows*D*4 bytes read and written: bandwidth-bound; BERT-base: 32 x 24 x 768 x 4 = 2.4 MB.
*/
#include "common.cuh"
#include "embedding.h"

namespace vsd {
namespace VSD_KNS {

__global__ void embedding_forward_kernel(float* out, const float* table, const int64_t* ids, int64_t D) {
    const int64_t r = blockIdx.x;
    const float* src = table + ids[r] * D;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) out[r * D + d] = src[d];
}

__global__ void embedding_backward_kernel(float* dtable, const float* dout, const int64_t* ids, int64_t D) {
    const int64_t r = blockIdx.x;
    float* dst = dtable + ids[r] * D;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) atomicAdd(&dst[d], dout[r * D + d]);
}

void embedding_forward(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D) {
    if (rows == 0) return;
    VSD_LAUNCH(embedding_forward_kernel, rows, 128, 0, out, table, ids, D);
}

void embedding_backward(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D) {
    if (rows == 0) return;
    VSD_LAUNCH(embedding_backward_kernel, rows, 128, 0, dtable, dout, ids, D);
}

}  // namespace VSD_KNS
}  // namespace vsd
