// gru.cpp — one GRU direction as a differentiable op (kernels/gru.h; cuDNN's with --cudnn 1).
#include "../../kernels/cudnn.h"
#include "../../kernels/gru.h"

#include <algorithm>
#include <memory>

#include "util.h"

namespace vsd {

// The GRU on the device, composed of kernels (the same recipe as the CPU's kernels/gru.cpp), for
// D = w.size() / 4 directions at once (kernels/gru.h: the buffers stack them):
//   forward:  gx = x W_ih^T + b_ih for every position (a GEMM per direction); then the walk over the
//             positions (kernels/gru.cu: version 1 a batched GEMM and a gate kernel per step,
//             version 2 one launch), which saves the gates and each position's starting state.
//   backward: the walk in reverse gives dgx and dgh at every position; then everything that does
//             not depend on the order is one GEMM or reduction over all positions, per direction:
//             dx = dgx W_ih, dW_ih = dgx^T x, db_ih = sum dgx, dW_hh = dgh^T h_prev, db_hh = sum dgh.
// Version 2 (a persistent block per sample and direction) is the default when H <=
// kGruRecurrenceMaxHidden (GPO's GRU, H = 32): a few launches whatever the length.
static Tensor gru_device(const Backend& k, const Tensor& x, const std::vector<int64_t>& len, const std::vector<Tensor>& w,
                         bool reverse) {
    const int D = (int)w.size() / 4;
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w[1].size(1), G = 3 * H, BT = B * T;
    const Device dev = Device::CUDA;
    const int version = H <= kGruRecurrenceMaxHidden ? kernel_version(2) : 1;
    Tensor Ld = Tensor::from_i64({B}, len).to(dev);  // the lengths, uploaded once
    GruRecurrent rw;  // each direction's W_hh and b_hh, for the kernels
    for (int d = 0; d < D; d++) rw.w_hh[d] = w[4 * d + 1].data(), rw.b_hh[d] = w[4 * d + 3].data();
    // version 1's batched GEMMs read the directions' W_hh stacked, (dirs, 3H, H): two device copies
    Tensor w_hh = w[1];
    if (version == 1 && D == 2) {
        w_hh = Tensor::empty({D, G, H}, DType::F32, dev);
        for (int d = 0; d < D; d++) k.copy_on_device(w_hh.data() + d * G * H, w[4 * d + 1].data(), G * H * sizeof(float));
    }
    const Broadcast rows_bc = {{1, 1, BT, G}, {0, 0, G, 1}, {0, 0, 0, 1}};
    Tensor gx = Tensor::empty({D, BT, G}, DType::F32, dev);
    for (int d = 0; d < D; d++) {
        float* gxd = gx.data() + d * BT * G;
        gemm_on(&k, false, true, BT, G, I, 1.0f, x.data(), I, w[4 * d].data(), I, 0.0f, gxd, G);
        VSD_RUN(k, binary_forward)(Binary::Add, gxd, gxd, w[4 * d + 2].data(), rows_bc);
    }
    // the kernels write every element (zeros at padding): no memset
    auto buffer = [=](int64_t width) {
        return Tensor::empty(D == 1 ? Shape{B, T, width} : Shape{D, B, T, width}, DType::F32, dev);
    };
    Tensor y = buffer(H), r = buffer(H), z = buffer(H), n = buffer(H), hn = buffer(H), hp = buffer(H);
    if (version == 2) {
        VSD_RUN(k, gru_recurrence_forward)(y.data(), r.data(), z.data(), n.data(), hn.data(), hp.data(), gx.data(), rw,
                                           Ld.i64(), reverse, D, B, T, H);
    } else {
        Tensor h = Tensor::zeros({D, B, H}, DType::F32, dev), gh = Tensor::empty({D, B, G}, DType::F32, dev);
        for (int64_t s = 0; s < T; s++) {
            // gh[d] = h[d] W_hh[d]^T for both directions in one batched GEMM
            VSD_RUN(k, gemm_batched)(false, true, B, G, H, 1.0f, h.data(), H, B * H, w_hh.data(), H, G * H, 0.0f, gh.data(),
                                     G, B * G, D, kernel_version(3));
            VSD_RUN(k, gru_gates_forward)(y.data(), h.data(), r.data(), z.data(), n.data(), hn.data(), hp.data(), gx.data(),
                                          gh.data(), rw, Ld.i64(), s, reverse, D, B, T, H);
        }
    }
    std::vector<Tensor> inputs = w;
    inputs.push_back(x);
    record("gru", inputs, y, [=, &k]() {
        Tensor dgx = buffer(G), dghs = buffer(G);  // per position
        if (version == 2) {
            VSD_RUN(k, gru_recurrence_backward)(dgx.data(), dghs.data(), y.grad(), r.data(), z.data(), n.data(), hn.data(),
                                                hp.data(), rw, Ld.i64(), reverse, D, B, T, H);
        } else {
            Tensor dgh = Tensor::empty({D, B, G}, DType::F32, dev), dh = Tensor::zeros({D, B, H}, DType::F32, dev);
            for (int64_t s = T - 1; s >= 0; s--) {
                VSD_RUN(k, gru_gates_backward)(dgx.data(), dgh.data(), dghs.data(), dh.data(), y.grad(), r.data(), z.data(),
                                               n.data(), hn.data(), hp.data(), Ld.i64(), s, reverse, D, B, T, H);
                // dh[d] += dgh[d] W_hh[d], both directions in one batched GEMM
                VSD_RUN(k, gemm_batched)(false, false, B, H, G, 1.0f, dgh.data(), G, B * G, w_hh.data(), H, G * H, 1.0f,
                                         dh.data(), H, B * H, D, kernel_version(3));
            }
        }
        for (int d = D - 1; d >= 0; d--) {  // (the reverse direction first, as the CPU's tape order)
            const Tensor &w_ih = w[4 * d], &w_hh_d = w[4 * d + 1], &b_ih = w[4 * d + 2], &b_hh_d = w[4 * d + 3];
            const float *dgxd = dgx.data() + d * BT * G, *dghd = dghs.data() + d * BT * G, *hpd = hp.data() + d * BT * H;
            if (w_hh_d.needs_grad()) gemm_on(&k, true, false, G, H, BT, 1.0f, dghd, G, hpd, H, 1.0f, w_hh_d.grad(), H);
            if (b_hh_d.needs_grad())
                VSD_RUN(k, binary_backward)(Binary::Add, nullptr, b_hh_d.grad(), dghd, dghd, b_hh_d.data(), rows_bc);
            if (x.needs_grad()) gemm_on(&k, false, false, BT, I, G, 1.0f, dgxd, G, w_ih.data(), I, 1.0f, x.grad(), I);
            if (w_ih.needs_grad()) gemm_on(&k, true, false, G, I, BT, 1.0f, dgxd, G, x.data(), I, 1.0f, w_ih.grad(), I);
            if (b_ih.needs_grad())
                VSD_RUN(k, binary_backward)(Binary::Add, nullptr, b_ih.grad(), dgxd, dgxd, b_ih.data(), rows_bc);
        }
    });
    return y;
}

// The checks and the CPU path of gru() and bigru(): D = w.size() / 4 directions, stacked in the
// output when D = 2 (direction 0 forward, 1 reverse).
static Tensor gru_directions(const char* op, const Tensor& x, const Tensor& lengths, const std::vector<Tensor>& w,
                             bool reverse) {
    std::vector<Tensor> on = w;
    on.push_back(x);
    const Backend* k = op_device(op, on);  // lengths may live on either side
    ENSURE(x.ndim() == 3, "%s: input must be (B, T, I), got %s", op, x.shape_str().c_str());
    const int D = (int)w.size() / 4;
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w[1].ndim() == 2 ? w[1].size(1) : 0;
    for (int d = 0; d < D; d++)
        ENSURE(w[4 * d].shape() == Shape({3 * H, I}) && w[4 * d + 1].shape() == Shape({3 * H, H}) &&
                   w[4 * d + 2].shape() == Shape{3 * H} && w[4 * d + 3].shape() == Shape{3 * H},
               "%s: direction %d's weights must be w_ih (3H, I) = (%lld, %lld), w_hh (3H, H), b_ih and b_hh (3H,); got "
               "%s %s %s %s", op, d, (long long)(3 * H), (long long)I, w[4 * d].shape_str().c_str(),
               w[4 * d + 1].shape_str().c_str(), w[4 * d + 2].shape_str().c_str(), w[4 * d + 3].shape_str().c_str());
    ENSURE(lengths.ndim() == 1 && lengths.size(0) == B, "%s: lengths must be (%lld,), got %s", op, (long long)B,
           lengths.shape_str().c_str());
    std::vector<int64_t> len = index_values(op, lengths.to(Device::CPU), T + 1);
    if (k) return gru_device(*k, x, len, w, reverse);
    Tensor y = Tensor::empty(D == 1 ? Shape{B, T, H} : Shape{D, B, T, H});
    std::vector<std::shared_ptr<GruCache>> caches;
    for (int d = 0; d < D; d++) {
        caches.push_back(std::make_shared<GruCache>());
        gru_forward_cpu(y.data() + d * B * T * H, *caches[d], x.data(), len.data(), w[4 * d].data(), w[4 * d + 1].data(),
                        w[4 * d + 2].data(), w[4 * d + 3].data(), B, T, I, H, gru_reverse(d, D, reverse));
    }
    record(op, on, y, [=]() {
        auto g = [](const Tensor& t) { return t.needs_grad() ? t.grad() : nullptr; };
        for (int d = D - 1; d >= 0; d--)  // the reverse direction first (the order two gru() calls' backwards ran)
            gru_backward_cpu(g(x), g(w[4 * d]), g(w[4 * d + 1]), g(w[4 * d + 2]), g(w[4 * d + 3]), y.grad() + d * B * T * H,
                             *caches[d], x.data(), len.data(), w[4 * d].data(), w[4 * d + 1].data(), B, T, I, H,
                             gru_reverse(d, D, reverse));
    });
    return y;
}

Tensor gru(const Tensor& x, const Tensor& lengths, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
           const Tensor& b_hh, bool reverse) {
    return gru_directions("gru", x, lengths, {w_ih, w_hh, b_ih, b_hh}, reverse);
}

Tensor bigru(const Tensor& x, const Tensor& lengths, const std::vector<Tensor>& w) {
    ENSURE(w.size() == 8, "bigru: 8 weights (w_ih, w_hh, b_ih, b_hh of the forward, then the reverse direction), got %zu",
           w.size());
    return gru_directions("bigru", x, lengths, w, false);
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
