// rnn.cpp — the GRU layer as a differentiable op (kernels/gru).
#include "../../kernels/gru.h"

#include <memory>

#include "util.h"

namespace vsd {

Tensor gru(const Tensor& x, const Tensor& lengths, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
           const Tensor& b_hh, bool reverse) {
    check_cpu("gru", {x, lengths, w_ih, w_hh, b_ih, b_hh});
    ENSURE(x.ndim() == 3, "gru: input must be (B, T, I), got %s", x.shape_str().c_str());
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w_hh.size(1);
    ENSURE(w_ih.shape() == Shape({3 * H, I}) && w_hh.shape() == Shape({3 * H, H}) && b_ih.shape() == Shape{3 * H} &&
               b_hh.shape() == Shape{3 * H},
           "gru: weights must be w_ih (3H, I) = (%lld, %lld), w_hh (3H, H), b_ih and b_hh (3H,); got %s %s %s %s",
           (long long)(3 * H), (long long)I, w_ih.shape_str().c_str(), w_hh.shape_str().c_str(), b_ih.shape_str().c_str(),
           b_hh.shape_str().c_str());
    ENSURE(lengths.ndim() == 1 && lengths.size(0) == B, "gru: lengths must be (%lld,), got %s", (long long)B,
           lengths.shape_str().c_str());
    std::vector<int64_t> len = index_values("gru", lengths, T + 1);
    Tensor y = Tensor::empty({B, T, H});
    auto cache = std::make_shared<GruCache>();
    gru_forward_cpu(y.data(), *cache, x.data(), len.data(), w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), B, T, I,
                    H, reverse);
    record("gru", {x, w_ih, w_hh, b_ih, b_hh}, y, [=]() {
        auto g = [](const Tensor& t) { return t.needs_grad() ? t.grad() : nullptr; };
        gru_backward_cpu(g(x), g(w_ih), g(w_hh), g(b_ih), g(b_hh), y.grad(), *cache, x.data(), len.data(), w_ih.data(),
                         w_hh.data(), B, T, I, H, reverse);
    });
    return y;
}

}  // namespace vsd
