// embedding.cpp — the lookup and its scatter-add backward as plain loops.
#include "embedding.h"


namespace vsd {

void embedding_forward_cpu(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D) {
    for (int64_t r = 0; r < rows; r++) std::copy(table + ids[r] * D, table + (ids[r] + 1) * D, out + r * D);
}

void embedding_backward_cpu(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t d = 0; d < D; d++) dtable[ids[r] * D + d] += dout[r * D + d];
}

}  // namespace vsd
