// gradcheck.h — compare an op's analytic backward with central finite differences.
//
//   L(x) = sum_i w_i * f(x)_i          w: fixed random weights (seeded), so every output matters
//   analytic:  run f, then backward with seed gradient w             -> dL/dx from our kernels
//   numeric:   (L(x + h e_j) - L(x - h e_j)) / (x_j^+ - x_j^-)        for every element j
//
// The forward runs in float32 (our ops are float32), but L and the difference quotient are
// computed in double, and the denominator is the actual float difference of the perturbed inputs,
// so rounding of x +- h does not bias the quotient. h = 1e-3 keeps float32 rounding of f well below
// the default tolerance |a - n| <= atol + rtol * |n|.
// Non-smooth ops (relu, abs, max, sort...) must be tested at inputs away from their kinks.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor.h"

namespace vsd {

struct GradcheckOptions {
    double h = 1e-3;
    double atol = 1e-3;
    double rtol = 1e-2;
    uint64_t seed = 1234;  // for the weights w
};

struct GradcheckResult {
    bool ok = true;
    double worst_ratio = 0.0;  // max over elements of |a - n| / (atol + rtol |n|); ok iff <= 1
    std::string report;        // the worst element: which input, which index, both values
};

using GradFn = std::function<Tensor(std::vector<Tensor>&)>;

// Checks the gradient of every float32 input (they are marked requires_grad).
GradcheckResult gradcheck(const GradFn& f, std::vector<Tensor> inputs, const GradcheckOptions& opt = {});

}  // namespace vsd
