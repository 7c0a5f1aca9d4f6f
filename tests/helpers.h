// helpers.h — shared test utilities.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../src/core/gradcheck.h"
#include "../src/ops/ops.h"

using namespace vsd;

// Gradient check with the worst element in the failure message.
#define CHECK_GRAD(...)                                            \
    do {                                                           \
        GradcheckResult r_ = gradcheck(__VA_ARGS__);               \
        CHECK_MESSAGE(r_.ok, r_.report);                           \
    } while (0)

// Values equal an expectation within atol + rtol*|expected|; the message names the element.
#define CHECK_CLOSE(got, expected, atol, rtol)                     \
    do {                                                           \
        std::string why_;                                          \
        bool ok_ = allclose((got), (expected), (atol), (rtol), &why_); \
        CHECK_MESSAGE(ok_, why_);                                  \
    } while (0)

inline Tensor T(const Shape& s, const std::vector<float>& v) { return Tensor::from(s, v); }

// Random tensor with values in [lo, hi), from a fixed seed.
inline Tensor rnd(const Shape& s, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng r(seed);
    return Tensor::rand(s, r, lo, hi);
}

// Distinct values well apart (for max/sort/topk/relu gradchecks: no ties, no kinks): a seeded
// permutation of 0.1 * (k - n/2) + 0.05, never 0.
inline Tensor distinct(const Shape& s, uint64_t seed) {
    int64_t n = shape_numel(s);
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; i++) v[i] = 0.1f * (float)(i - n / 2) + 0.05f;
    Rng r(seed);
    for (int64_t i = n - 1; i > 0; i--) std::swap(v[i], v[r.randint(i + 1)]);
    return Tensor::from(s, v);
}
