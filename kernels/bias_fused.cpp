// bias_fused.cpp — CPU reference of the bias fusions (bias_fused.h): plain loops, in the expressions
// of the unfused ops (linear's bias add, unary gelu, dropout, binary add), so the bits agree.
#include "bias_fused.h"

#include "elementwise_ops.h"  // unary_f, unary_df, dropout_scale

// Each product is rounded before it is added, as the unfused ops' separate kernels round it: the
// compiler must not contract h + t*m into one fused multiply-add here (it would, at -march=native).
#if defined(__GNUC__) && !defined(__clang__)
#define VSD_NO_FMA __attribute__((optimize("fp-contract=off")))
#else
#define VSD_NO_FMA
#endif

namespace vsd {

VSD_NO_FMA void bias_fused_forward_cpu(BiasFused op, float* y, const float* z, const float* b, const float* h, int64_t rows,
                            int64_t n, float p, uint64_t seed) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) {
            const int64_t e = r * n + j;
            const float t = z[e] + b[j];  // the linear's output
            if (op == BiasFused::Gelu) y[e] = unary_f(Unary::Gelu, t, 0.0f, 0.0f);
            else y[e] = h[e] + (p > 0.0f ? t * dropout_scale(seed, e, p) : t);
        }
}

VSD_NO_FMA void bias_fused_backward_cpu(BiasFused op, float* dz, float* db, float* dh, const float* dy, const float* z,
                             const float* b, int64_t rows, int64_t n, float p, uint64_t seed) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) {
            const int64_t e = r * n + j;
            const float g = bias_fused_grad(op, dy[e], z[e] + b[j], p, seed, e);
            if (dh && op == BiasFused::DropoutResidual) dh[e] += dy[e];  // the residual's gradient
            if (dz) dz[e] += g;
            if (db) db[j] += g;  // over rows in order, as linear's backward sums its bias
        }
}

}  // namespace vsd
