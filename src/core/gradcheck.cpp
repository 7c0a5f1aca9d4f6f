#include "gradcheck.h"

#include <cmath>

#include "tape.h"

namespace vsd {

// L = sum_i w_i y_i in double
static double weighted_sum(const Tensor& y, const std::vector<float>& w) {
    std::vector<float> v = y.to_vector();
    double s = 0.0;
    for (size_t i = 0; i < v.size(); i++) s += (double)w[i] * v[i];
    return s;
}

GradcheckResult gradcheck(const GradFn& f, std::vector<Tensor> inputs, const GradcheckOptions& opt) {
    GradcheckResult res;
    tape().clear();
    for (Tensor& t : inputs)
        if (t.dtype() == DType::F32) {
            t.requires_grad(true);
            t.zero_grad();
        }
    // 1. analytic gradients
    Tensor y = f(inputs);
    Rng rng(opt.seed);
    std::vector<float> w(y.numel());
    for (float& v : w) v = rng.uniform(-1.0f, 1.0f);
    if (y.needs_grad()) tape().backward(y, Tensor::from(y.shape(), w));
    tape().clear();

    // 2. numeric gradients, element by element
    for (size_t k = 0; k < inputs.size(); k++) {
        Tensor x = inputs[k];
        if (x.dtype() != DType::F32) continue;
        std::vector<float> analytic = x.grad_tensor().to_vector();
        float* xp = x.data();
        for (int64_t j = 0; j < x.numel(); j++) {
            const float orig = xp[j];
            double lp, lm;
            float up = (float)(orig + opt.h), down = (float)(orig - opt.h);
            {
                NoGrad ng;
                xp[j] = up;
                lp = weighted_sum(f(inputs), w);
                xp[j] = down;
                lm = weighted_sum(f(inputs), w);
            }
            xp[j] = orig;
            double numeric = (lp - lm) / ((double)up - (double)down);
            double a = analytic[j];
            double ratio = std::fabs(a - numeric) / (opt.atol + opt.rtol * std::fabs(numeric));
            if (!(ratio <= res.worst_ratio) || std::isnan(a)) {  // NaN-safe: a NaN always becomes the worst
                res.worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
                res.report = strfmt("input %zu %s, element %lld: analytic %.7g, numeric %.7g (ratio %.3g of tolerance)",
                                    k, x.shape_str().c_str(), (long long)j, a, numeric, ratio);
            }
        }
    }
    res.ok = res.worst_ratio <= 1.0;
    if (res.report.empty()) res.report = "no float32 inputs to check";
    return res;
}

}  // namespace vsd
