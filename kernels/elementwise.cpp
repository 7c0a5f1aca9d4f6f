// elementwise.cpp — the plain loops behind exp, log, relu, gelu, ..., and a + b with broadcasting.
//
// Each unary op is one line of forward and one line of derivative; the table in
// kernels/elementwise_ops.h is the whole story. y is the forward output, so ops whose derivative is
// cheapest from y use it (exp: y, tanh: 1 - y^2, sigmoid: y (1 - y), sqrt: 1 / (2y)).
#include "elementwise.h"

#include <cmath>

#include "elementwise_ops.h"  // unary_f, unary_df, binary_f: the formulas, shared with the CUDA kernels

namespace vsd {

const char* unary_name(Unary op) {
    switch (op) {
        case Unary::Exp: return "exp";
        case Unary::Log: return "log";
        case Unary::Sqrt: return "sqrt";
        case Unary::Abs: return "abs";
        case Unary::Relu: return "relu";
        case Unary::LeakyRelu: return "leaky_relu";
        case Unary::Gelu: return "gelu";
        case Unary::Tanh: return "tanh";
        case Unary::Sigmoid: return "sigmoid";
        case Unary::QuickGelu: return "quick_gelu";
        case Unary::Pow: return "pow";
        case Unary::Clamp: return "clamp";
        case Unary::AddScalar: return "add_scalar";
        case Unary::MulScalar: return "mul_scalar";
    }
    return "?";
}

void unary_forward_cpu(Unary op, float* y, const float* x, int64_t n, float a, float b) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] = unary_f(op, x[i], a, b);
}

void unary_backward_cpu(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a,
                        float b) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; i++) dx[i] += unary_df(op, x[i], y[i], a, b) * dy[i];
}

// ---------------------------------------------------------------------------------------------
const char* binary_name(Binary op) {
    switch (op) {
        case Binary::Add: return "add";
        case Binary::Sub: return "sub";
        case Binary::Mul: return "mul";
        case Binary::Div: return "div";
    }
    return "?";
}

// Rows (i0, i1, i2) of the 4-D frame can run in parallel when every operand that receives a
// gradient maps distinct rows to distinct elements, i.e. it is broadcast at most along the last
// dim. The forward writes only out[o], so it can always run in parallel.
static bool rows_distinct(const Broadcast& bc, const int64_t* st) {
    for (int d = 0; d < 3; d++)
        if (bc.shape[d] > 1 && st[d] == 0) return false;
    return true;
}

void binary_forward_cpu(Binary op, float* out, const float* a, const float* b, const Broadcast& bc) {
    // Walk the 4-D output index; the operands' offsets follow their own strides (0 = broadcast).
    const int64_t rows = bc.shape[0] * bc.shape[1] * bc.shape[2], n = bc.shape[3];
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i0 = r / (bc.shape[1] * bc.shape[2]), i1 = (r / bc.shape[2]) % bc.shape[1], i2 = r % bc.shape[2];
        const float* ar = a + i0 * bc.sa[0] + i1 * bc.sa[1] + i2 * bc.sa[2];
        const float* br = b + i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2];
        float* o = out + r * n;
        for (int64_t i3 = 0; i3 < n; i3++) o[i3] = binary_f(op, ar[i3 * bc.sa[3]], br[i3 * bc.sb[3]]);
    }
}

void binary_backward_cpu(Binary op, float* da, float* db, const float* dout, const float* a, const float* b,
                         const Broadcast& bc) {
    // Same walk as the forward. Where an operand is broadcast, several outputs map to one of its
    // elements, and the += sums their gradients: that is the "reduce over broadcast dims" rule.
    const int64_t rows = bc.shape[0] * bc.shape[1] * bc.shape[2], n = bc.shape[3];
    const bool par = rows * n > 65536 && (!da || rows_distinct(bc, bc.sa)) && (!db || rows_distinct(bc, bc.sb));
#pragma omp parallel for if (par)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i0 = r / (bc.shape[1] * bc.shape[2]), i1 = (r / bc.shape[2]) % bc.shape[1], i2 = r % bc.shape[2];
        const int64_t ra = i0 * bc.sa[0] + i1 * bc.sa[1] + i2 * bc.sa[2], rb = i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2];
        for (int64_t i3 = 0; i3 < n; i3++) {
            const int64_t ia = ra + i3 * bc.sa[3], ib = rb + i3 * bc.sb[3];
            const float g = dout[r * n + i3];
            switch (op) {
                case Binary::Add:  // d(a+b) = (1, 1)
                    if (da) da[ia] += g;
                    if (db) db[ib] += g;
                    break;
                case Binary::Sub:  // d(a-b) = (1, -1)
                    if (da) da[ia] += g;
                    if (db) db[ib] -= g;
                    break;
                case Binary::Mul:  // d(ab) = (b, a)
                    if (da) da[ia] += g * b[ib];
                    if (db) db[ib] += g * a[ia];
                    break;
                case Binary::Div:  // d(a/b) = (1/b, -a/b^2)
                    if (da) da[ia] += g / b[ib];
                    if (db) db[ib] -= g * a[ia] / (b[ib] * b[ib]);
                    break;
            }
        }
    }
}

void to_float_cpu(float* y, const int64_t* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)x[i];
}
void to_float_cpu(float* y, const int32_t* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)x[i];
}

}  // namespace vsd
