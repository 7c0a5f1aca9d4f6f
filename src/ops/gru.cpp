// gru.cpp — one GRU direction as a differentiable op (kernels/gru.h; cuDNN's with --cudnn 1).
#include "../../kernels/cudnn.h"
#include "../../kernels/gru.h"

#include <algorithm>
#include <memory>

#include "util.h"

namespace vsd {

// The GRU on the device, composed of kernels (the same recipe as the CPU's kernels/gru.cpp):
//   forward:  gx = x W_ih^T + b_ih for every position (one GEMM); then the walk over the positions
//             (kernels/gru.cu: version 1 a GEMM and a gate kernel per step, version 2 one launch),
//             which saves the gates and each position's starting state h_prev.
//   backward: the walk in reverse gives dgx and dgh at every position; then everything that does
//             not depend on the order is one GEMM or reduction over all positions:
//             dx = dgx W_ih, dW_ih = dgx^T x, db_ih = sum dgx, dW_hh = dgh^T h_prev, db_hh = sum dgh.
// Version 2 (a persistent block per sample) is the default when H <= kGruRecurrenceMaxHidden
// (GPO's GRU, H = 32): 8 launches per direction, forward and backward, whatever the length.
static Tensor gru_device(const Backend& k, const Tensor& x, const std::vector<int64_t>& len, const Tensor& w_ih,
                         const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w_hh.size(1), G = 3 * H;
    const Device D = Device::CUDA;
    const int version = H <= kGruRecurrenceMaxHidden ? kernel_version(2) : 1;
    Tensor Ld = Tensor::from_i64({B}, len).to(D);  // the lengths, uploaded once
    const Broadcast rows_bc = {{1, 1, B * T, G}, {0, 0, G, 1}, {0, 0, 0, 1}};
    Tensor gx = Tensor::empty({B * T, G}, DType::F32, D);
    gemm_on(&k, false, true, B * T, G, I, 1.0f, x.data(), I, w_ih.data(), I, 0.0f, gx.data(), G);
    VSD_RUN(k, binary_forward)(Binary::Add, gx.data(), gx.data(), b_ih.data(), rows_bc);
    // version 2 writes every element (zeros at padding); version 1 only the active positions
    auto buffer = [=](int64_t width) {
        return version == 2 ? Tensor::empty({B, T, width}, DType::F32, D) : Tensor::zeros({B, T, width}, DType::F32, D);
    };
    Tensor y = buffer(H), r = buffer(H), z = buffer(H), n = buffer(H), hn = buffer(H), hp = buffer(H);
    if (version == 2) {
        VSD_RUN(k, gru_recurrence_forward)(y.data(), r.data(), z.data(), n.data(), hn.data(), hp.data(), gx.data(),
                                           w_hh.data(), b_hh.data(), Ld.i64(), reverse, B, T, H);
    } else {
        Tensor h = Tensor::zeros({B, H}, DType::F32, D), gh = Tensor::empty({B, G}, DType::F32, D);
        for (int64_t s = 0; s < T; s++) {
            gemm_on(&k, false, true, B, G, H, 1.0f, h.data(), H, w_hh.data(), H, 0.0f, gh.data(), G);
            VSD_RUN(k, gru_gates_forward)(y.data(), h.data(), r.data(), z.data(), n.data(), hn.data(), hp.data(), gx.data(),
                                          gh.data(), b_hh.data(), Ld.i64(), s, reverse, B, T, H);
        }
    }
    record("gru", {x, w_ih, w_hh, b_ih, b_hh}, y, [=, &k]() {
        Tensor dgx = buffer(G), dghs = buffer(G);  // per position
        if (version == 2) {
            VSD_RUN(k, gru_recurrence_backward)(dgx.data(), dghs.data(), y.grad(), r.data(), z.data(), n.data(), hn.data(),
                                                hp.data(), w_hh.data(), Ld.i64(), reverse, B, T, H);
        } else {
            Tensor dgh = Tensor::empty({B, G}, DType::F32, D), dh = Tensor::zeros({B, H}, DType::F32, D);
            for (int64_t s = T - 1; s >= 0; s--) {
                VSD_RUN(k, gru_gates_backward)(dgx.data(), dgh.data(), dghs.data(), dh.data(), y.grad(), r.data(), z.data(),
                                               n.data(), hn.data(), hp.data(), Ld.i64(), s, reverse, B, T, H);
                gemm_on(&k, false, false, B, H, G, 1.0f, dgh.data(), G, w_hh.data(), H, 1.0f, dh.data(), H);
            }
        }
        if (w_hh.needs_grad()) gemm_on(&k, true, false, G, H, B * T, 1.0f, dghs.data(), G, hp.data(), H, 1.0f, w_hh.grad(), H);
        if (b_hh.needs_grad()) VSD_RUN(k, binary_backward)(Binary::Add, nullptr, b_hh.grad(), dghs.data(), dghs.data(), b_hh.data(), rows_bc);
        if (x.needs_grad()) gemm_on(&k, false, false, B * T, I, G, 1.0f, dgx.data(), G, w_ih.data(), I, 1.0f, x.grad(), I);
        if (w_ih.needs_grad()) gemm_on(&k, true, false, G, I, B * T, 1.0f, dgx.data(), G, x.data(), I, 1.0f, w_ih.grad(), I);
        if (b_ih.needs_grad()) VSD_RUN(k, binary_backward)(Binary::Add, nullptr, b_ih.grad(), dgx.data(), dgx.data(), b_ih.data(), rows_bc);
    });
    return y;
}

Tensor gru(const Tensor& x, const Tensor& lengths, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
           const Tensor& b_hh, bool reverse) {
    const Backend* k = op_device("gru", {x, w_ih, w_hh, b_ih, b_hh});  // lengths may live on either side
    ENSURE(x.ndim() == 3, "gru: input must be (B, T, I), got %s", x.shape_str().c_str());
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w_hh.size(1);
    ENSURE(w_ih.shape() == Shape({3 * H, I}) && w_hh.shape() == Shape({3 * H, H}) && b_ih.shape() == Shape{3 * H} &&
               b_hh.shape() == Shape{3 * H},
           "gru: weights must be w_ih (3H, I) = (%lld, %lld), w_hh (3H, H), b_ih and b_hh (3H,); got %s %s %s %s",
           (long long)(3 * H), (long long)I, w_ih.shape_str().c_str(), w_hh.shape_str().c_str(), b_ih.shape_str().c_str(),
           b_hh.shape_str().c_str());
    ENSURE(lengths.ndim() == 1 && lengths.size(0) == B, "gru: lengths must be (%lld,), got %s", (long long)B,
           lengths.shape_str().c_str());
    std::vector<int64_t> len = index_values("gru", lengths.to(Device::CPU), T + 1);
    if (k) return gru_device(*k, x, len, w_ih, w_hh, b_ih, b_hh, reverse);
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

// cuDNN's GRU layer (kernels/cudnn.h): both directions in one call when w holds 8 tensors.
Tensor gru_cudnn(const Tensor& x, const Tensor& lengths, const std::vector<Tensor>& w) {
    ENSURE(w.size() == 4 || w.size() == 8, "gru_cudnn: 4 weights per direction (w_ih, w_hh, b_ih, b_hh), got %zu",
           w.size());
    ENSURE(x.ndim() == 3 && x.is_cuda() && !emulated_device(),
           "gru_cudnn: x must be (B, T, I) on the GPU (cuDNN cannot run in the emulator), got %s on %s",
           x.shape_str().c_str(), x.is_cuda() ? "the device" : "the CPU");
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w[1].size(1);
    const int dirs = (int)w.size() / 4;
    for (int d = 0; d < dirs; d++) {
        const Tensor *wi = &w[4 * d], *wh = &w[4 * d + 1], *bi = &w[4 * d + 2], *bh = &w[4 * d + 3];
        ENSURE(wi->shape() == Shape({3 * H, I}) && wh->shape() == Shape({3 * H, H}) && bi->shape() == Shape{3 * H} &&
                   bh->shape() == Shape{3 * H} && wi->is_cuda() && wh->is_cuda() && bi->is_cuda() && bh->is_cuda(),
               "gru_cudnn: direction %d's weights must be w_ih (%lld, %lld), w_hh (%lld, %lld), b_ih and b_hh "
               "(%lld,) on the device; got %s %s %s %s", d, (long long)(3 * H), (long long)I, (long long)(3 * H),
               (long long)H, (long long)(3 * H), wi->shape_str().c_str(), wh->shape_str().c_str(),
               bi->shape_str().c_str(), bh->shape_str().c_str());
    }
    ENSURE(lengths.ndim() == 1 && lengths.size(0) == B, "gru_cudnn: lengths must be (%lld,), got %s", (long long)B,
           lengths.shape_str().c_str());
    std::vector<int64_t> len64 = index_values("gru_cudnn", lengths.to(Device::CPU), T + 1);
    std::vector<int> len(len64.begin(), len64.end());
    for (int l : len) ENSURE(l >= 1, "gru_cudnn: cuDNN needs every length >= 1, got %d. HINT: drop empty sequences", l);
    cudnn::GruParams p[2];
    for (int d = 0; d < dirs; d++) p[d] = {w[4 * d].data(), w[4 * d + 1].data(), w[4 * d + 2].data(), w[4 * d + 3].data()};
    Tensor y = Tensor::empty({B, T, dirs * H}, DType::F32, Device::CUDA);
    bool train = grad_enabled() && (x.needs_grad() || std::any_of(w.begin(), w.end(), [](const Tensor& t) { return t.needs_grad(); }));
    auto state = cudnn::gru_forward(y.data(), x.data(), len, (int)T, (int)I, (int)H, dirs, p, train);
    if (!train) return y;
    std::vector<Tensor> inputs = w;
    inputs.push_back(x);
    record("gru_cudnn", inputs, y, [=]() {
        auto g = [](const Tensor& t) { return t.needs_grad() ? t.grad() : nullptr; };
        cudnn::GruGrads gr[2];
        for (int d = 0; d < dirs; d++) gr[d] = {g(w[4 * d]), g(w[4 * d + 1]), g(w[4 * d + 2]), g(w[4 * d + 3])};
        cudnn::gru_backward(*state, g(x), gr, y.grad(), x.data(), y.data());
    });
    return y;
}

}  // namespace vsd
