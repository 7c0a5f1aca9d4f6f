// elementwise_ops.h — the per-element formulas of the unary and binary ops, written once and used
// by the CPU reference (kernels/elementwise.cpp) and the CUDA kernels (kernels/elementwise.cu).
#pragma once
#include <cmath>
#include <cstdint>

#include "elementwise.h"

namespace vsd {

// The order of max, sort and top-k, as PyTorch's: NaN is above every number, so max returns NaN
// (and its index), a descending sort puts NaNs first and an ascending one last. A NaN must never be
// lost to a comparison that is simply false.
VSD_HD bool nan_greater(float a, float b) { return a > b || (a != a && b == b); }

// f(x): the forward value of one element.
VSD_HD float unary_f(Unary op, float x, float a, float b) {
    const float kInvSqrt2 = 0.70710678118654752f;  // 1/sqrt(2)
    switch (op) {
        case Unary::Exp: return expf(x);
        case Unary::Log: return logf(x);
        case Unary::Sqrt: return sqrtf(x);
        case Unary::Abs: return fabsf(x);
        case Unary::Relu: return x <= 0.0f ? 0.0f : x;                      // NaN stays NaN, as PyTorch
        case Unary::LeakyRelu: return x <= 0.0f ? a * x : x;                  // a = negative slope; NaN stays NaN
        case Unary::Gelu: return 0.5f * x * (1.0f + erff(x * kInvSqrt2));     // exact (erf) form, as BERT
        case Unary::Tanh: return tanhf(x);
        case Unary::Sigmoid: return 1.0f / (1.0f + expf(-x));
        case Unary::QuickGelu: return x / (1.0f + expf(-1.702f * x));
        case Unary::Pow: return powf(x, a);
        case Unary::Clamp: return x < a ? a : (x > b ? b : x);
        case Unary::AddScalar: return x + a;
        case Unary::MulScalar: return x * a;
    }
    return 0.0f;
}

// f'(x), given x and y = f(x).
VSD_HD float unary_df(Unary op, float x, float y, float a, float b) {
    const float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
    switch (op) {
        case Unary::Exp: return y;                                   // d e^x = e^x
        case Unary::Log: return 1.0f / x;
        case Unary::Sqrt: return 0.5f / y;                           // inf at 0, as PyTorch
        case Unary::Abs: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);  // sign(x), 0 at the kink
        case Unary::Relu: return x > 0.0f ? 1.0f : 0.0f;
        case Unary::LeakyRelu: return x > 0.0f ? 1.0f : a;
        case Unary::Gelu:                                            // Phi(x) + x phi(x)
            return 0.5f * (1.0f + erff(x * kInvSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
        case Unary::Tanh: return 1.0f - y * y;
        case Unary::Sigmoid: return y * (1.0f - y);
        case Unary::QuickGelu: {  // s + 1.702 x s (1 - s), s = sigmoid(1.702 x)
            const float s = 1.0f / (1.0f + expf(-1.702f * x));
            return s + 1.702f * x * s * (1.0f - s);
        }
        case Unary::Pow: return a * powf(x, a - 1.0f);
        case Unary::Clamp: return (x >= a && x <= b) ? 1.0f : 0.0f;  // inclusive bounds, as PyTorch
        case Unary::AddScalar: return 1.0f;
        case Unary::MulScalar: return a;
    }
    return 0.0f;
}

VSD_HD float binary_f(Binary op, float a, float b) {
    switch (op) {
        case Binary::Add: return a + b;
        case Binary::Sub: return a - b;
        case Binary::Mul: return a * b;
        case Binary::Div: return a / b;
    }
    return 0.0f;
}

// Dropout's keep-scale of element i: 0 with probability p, else 1/(1-p). A counter-based draw:
// the uniform comes from hashing (seed, i), so any element's decision can be computed on its own,
// by any thread, in any order, forward or backward, on the CPU or the GPU, and always agrees. (A
// stateful generator would have to be stepped through the elements in order: on a GPU that means
// drawing on the host and uploading a mask as big as the activations.) The hash is SplitMix64's
// finaliser, whose output bits pass statistical test batteries for consecutive inputs; the top 24
// bits give the uniform in [0, 1), as Rng::uniform does.
VSD_HD float dropout_scale(uint64_t seed, int64_t i, float p) {
    uint64_t z = seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    return u < p ? 0.0f : 1.0f / (1.0f - p);
}

// A flat output index o of a 4-D broadcast frame -> the offsets of its two operands (a and b)
// through their broadcast strides (0 along a broadcast dim). The GPU's per-element form of the CPU
// references' nested loops (kernels/elementwise.cpp, kernels/select.cpp).
VSD_HD void bcast_offsets(const Broadcast& bc, int64_t o, int64_t* ia, int64_t* ib) {
    const int64_t i3 = o % bc.shape[3], i2 = (o / bc.shape[3]) % bc.shape[2];
    const int64_t i1 = (o / (bc.shape[3] * bc.shape[2])) % bc.shape[1], i0 = o / (bc.shape[3] * bc.shape[2] * bc.shape[1]);
    *ia = i0 * bc.sa[0] + i1 * bc.sa[1] + i2 * bc.sa[2] + i3 * bc.sa[3];
    *ib = i0 * bc.sb[0] + i1 * bc.sb[1] + i2 * bc.sb[2] + i3 * bc.sb[3];
}

// d(a op b)/da * g (wrt_b false) or d(a op b)/db * g (wrt_b true), at one element
VSD_HD float binary_grad(Binary op, bool wrt_b, float g, float a, float b) {
    switch (op) {
        case Binary::Add: return g;
        case Binary::Sub: return wrt_b ? -g : g;
        case Binary::Mul: return wrt_b ? g * a : g * b;
        case Binary::Div: return wrt_b ? -g * a / (b * b) : g / b;
    }
    return 0.0f;
}

}  // namespace vsd
