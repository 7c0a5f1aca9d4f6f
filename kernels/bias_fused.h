// bias_fused.h — a linear layer's bias fused with what follows it (Transformer blocks, BERT):
//
//   Gelu:             y = gelu(z + b)                          (the feed-forward's first half)
//   DropoutResidual:  y = h + dropout(z + b)                   (a sublayer's output, before LayerNorm)
//
// z: the GEMM's output (rows, n) without its bias; b: (n); h: the residual (rows, n); dropout's
// scale of element e is dropout_scale(seed, e, p) (elementwise_ops.h: the mask the dropout op draws
// from the same seed), p = 0: none. Unfused that is the bias add, the activation (or dropout and
// the add), and in the backward the activation's (or dropout's and the add's) kernels and the bias's
// column sum: 5-6 launches. Here one forward and one backward launch.
//
// Backward (dy: the gradient of y):
//   Gelu:             dz += gelu'(z + b) dy,   db += sum over rows of gelu'(z + b) dy
//   DropoutResidual:  dh += dy,  dz += dy m,   db += sum over rows of dy m     (m: the scale)
// The terms are computed in the unfused ops' own expressions and the bias sum runs over rows in
// order, so on the CPU the results are the same bits as linear + gelu / dropout + add.
#pragma once
#include <cstdint>

#include "elementwise_ops.h"  // unary_df, dropout_scale
#include "launch.h"

namespace vsd {

enum class BiasFused : int { Gelu, DropoutResidual };

// The gradient of the linear's output t = z + b at element e (of the residual: its gradient dy
// goes to h as it is): gelu'(t) dy, or dy times dropout's scale. One formula for the CPU
// reference and the kernel, written as the unfused ops compute it.
VSD_HD float bias_fused_grad(BiasFused op, float dy, float t, float p, uint64_t seed, int64_t e) {
    if (op == BiasFused::Gelu) return unary_df(Unary::Gelu, t, 0.0f, 0.0f, 0.0f) * dy;
    return p > 0.0f ? dy * dropout_scale(seed, e, p) : dy;
}

// h, dh: only for DropoutResidual (dh null: no gradient wanted); dz, db null: not wanted
void bias_fused_forward_cpu(BiasFused op, float* y, const float* z, const float* b, const float* h, int64_t rows,
                            int64_t n, float p, uint64_t seed);
void bias_fused_backward_cpu(BiasFused op, float* dz, float* db, float* dh, const float* dy, const float* z,
                             const float* b, int64_t rows, int64_t n, float p, uint64_t seed);

// the CUDA versions (kernels/bias_fused.cu)
VSD_LAUNCHERS(
    void bias_fused_forward(BiasFused op, float* y, const float* z, const float* b, const float* h, int64_t rows, int64_t n,
                            float p, uint64_t seed);
    void bias_fused_backward(BiasFused op, float* dz, float* db, float* dh, const float* dy, const float* z, const float* b,
                             int64_t rows, int64_t n, float p, uint64_t seed);
)

}  // namespace vsd
