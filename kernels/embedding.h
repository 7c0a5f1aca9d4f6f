// embedding.h — looking up rows of a table (CPU reference; CUDA: embedding.cu).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

// out[r, :] = table[ids[r], :]   table (V, D), ids (rows,)
void embedding_forward_cpu(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D);
// dtable[ids[r], :] += dout[r, :]   (a row used twice collects both gradients)
void embedding_backward_cpu(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D);

// the CUDA versions (kernels/embedding.cu)
VSD_LAUNCHERS(
    void embedding_forward(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D);
    void embedding_backward(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D);
)

}  // namespace vsd
