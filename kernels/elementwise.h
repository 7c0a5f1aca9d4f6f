// elementwise.h — unary maps, scalar ops, and broadcasting binary ops (CPU references).
// n: number of elements. Backward functions ACCUMULATE into dx (dx += ...).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

enum class Unary {
    Exp, Log, Sqrt, Abs, Relu, LeakyRelu, Gelu, Tanh, Sigmoid,
    QuickGelu,  // x sigmoid(1.702 x): OpenAI CLIP's approximation of GELU
    Pow,        // x^p            (p = a)
    Clamp,      // min(max(x, a), b)
    AddScalar,  // x + a
    MulScalar,  // x * a
};
const char* unary_name(Unary op);

// y = f(x); a, b are the op's scalar parameters (slope, exponent, bounds, scalar).
void unary_forward_cpu(Unary op, float* y, const float* x, int64_t n, float a, float b);
// dx += f'(x) * dy; x and y are the forward's input and output (each op reads what it needs).
void unary_backward_cpu(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a,
                        float b);

// Broadcasting over up to 4 dims, aligned to the right as numpy does. `shape` is the output shape
// padded to 4 dims; sa/sb are the element strides of a and b in that frame, 0 along dims where the
// operand has size 1 (the broadcast dims).
struct Broadcast {
    int64_t shape[4];
    int64_t sa[4], sb[4];
    int64_t numel() const { return shape[0] * shape[1] * shape[2] * shape[3]; }
};

enum class Binary { Add, Sub, Mul, Div };
const char* binary_name(Binary op);

// out = a (op) b with broadcasting
void binary_forward_cpu(Binary op, float* out, const float* a, const float* b, const Broadcast& bc);
// da += d(out)/da * dout, summed over a's broadcast dims; likewise db. Either may be null (no grad).
void binary_backward_cpu(Binary op, float* da, float* db, const float* dout, const float* a, const float* b,
                         const Broadcast& bc);

// y = (float)x: an index tensor (masks, ids, lengths) as floats           x (n,) int64 or int32
void to_float_cpu(float* y, const int64_t* x, int64_t n);
void to_float_cpu(float* y, const int32_t* x, int64_t n);

// the CUDA versions (kernels/elementwise.cu)
VSD_LAUNCHERS(
    void unary_forward(Unary op, float* y, const float* x, int64_t n, float a, float b);
    void unary_backward(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a, float b);
    void binary_forward(Binary op, float* out, const float* a, const float* b, const Broadcast& bc);
    void binary_backward(Binary op, float* da, float* db, const float* dout, const float* a, const float* b,
                         const Broadcast& bc);
    void i64_to_float(float* y, const int64_t* x, int64_t n);
    void i32_to_float(float* y, const int32_t* x, int64_t n);
)

}  // namespace vsd
