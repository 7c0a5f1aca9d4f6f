// gemm.cpp — matmul and the linear layer, on top of kernels/gemm.
//
// Backward of C = op(A) op(B) (dC given):
//   d op(A) = dC op(B)^T        d op(B) = op(A)^T dC
// and when the stored operand is transposed, its gradient is the transpose of that. Each case below
// is one gemm call with beta = 1 (accumulate into the gradient).
#include <algorithm>

#include "../../kernels/gemm.h"
#include "util.h"

namespace vsd {

// dA, dB for one (M,K)x(K,N) product; A, B as stored (lda/ldb their row strides).
// k: the device's kernels, or null for the CPU.
static void matmul_backward_one(const Backend* k, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A,
                                const float* B, const float* dC, float* dA, float* dB) {
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    if (dA) {
        if (!ta) gemm_on(k, false, !tb, M, K, N, 1.0f, dC, N, B, ldb, 1.0f, dA, K);  // dA = dC op(B)^T
        else gemm_on(k, tb, true, K, M, N, 1.0f, B, ldb, dC, N, 1.0f, dA, M);        // dA = op(B) dC^T
    }
    if (dB) {
        if (!tb) gemm_on(k, !ta, false, K, N, M, 1.0f, A, lda, dC, N, 1.0f, dB, N);  // dB = op(A)^T dC
        else gemm_on(k, true, ta, N, K, M, 1.0f, dC, N, A, lda, 1.0f, dB, K);        // dB = dC^T op(A)
    }
}

// The same for every product of a batch on the device, one strided-batched GEMM per gradient
// (kernels/gemm.cu: one cuBLAS call instead of `batch` launches). A b shared by the batch gets
// the sum of its gradients: with a not transposed that is one GEMM over the stacked rows
// (dB = A_all^T dC_all, A_all the batch*M rows of A), otherwise one product at a time.
static void matmul_backward_device(const Backend& k, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                                   int64_t batch, bool b_shared, const float* A, const float* B, const float* dC,
                                   float* dA, float* dB) {
    const int64_t lda = ta ? M : K, ldb = tb ? K : N, sA = M * K, sB = b_shared ? 0 : K * N, sC = M * N;
    if (dA) {
        if (!ta) VSD_RUN(k, gemm_batched)(false, !tb, M, K, N, 1.0f, dC, N, sC, B, ldb, sB, 1.0f, dA, K, sA, batch, kernel_version(3));
        else VSD_RUN(k, gemm_batched)(tb, true, K, M, N, 1.0f, B, ldb, sB, dC, N, sC, 1.0f, dA, M, sA, batch, kernel_version(3));
    }
    if (!dB) return;
    if (!b_shared) {
        if (!tb) VSD_RUN(k, gemm_batched)(!ta, false, K, N, M, 1.0f, A, lda, sA, dC, N, sC, 1.0f, dB, N, sB, batch, kernel_version(3));
        else VSD_RUN(k, gemm_batched)(true, ta, N, K, M, 1.0f, dC, N, sC, A, lda, sA, 1.0f, dB, K, sB, batch, kernel_version(3));
    } else if (!ta) {
        if (!tb) gemm_on(&k, true, false, K, N, batch * M, 1.0f, A, K, dC, N, 1.0f, dB, N);
        else gemm_on(&k, true, false, N, K, batch * M, 1.0f, dC, N, A, K, 1.0f, dB, K);
    } else {
        for (int64_t t = 0; t < batch; t++)
            matmul_backward_one(&k, ta, tb, M, N, K, A + t * M * K, B, dC + t * M * N, nullptr, dB);
    }
}

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
    const Backend* k = op_device("matmul", {a, b});
    check_f32("matmul", a, "a");
    check_f32("matmul", b, "b");
    ENSURE(a.ndim() >= 2 && b.ndim() >= 2, "matmul: operands need at least 2 dims, got a %s and b %s",
          a.shape_str().c_str(), b.shape_str().c_str());
    const int64_t M = ta ? a.size(-1) : a.size(-2), Ka = ta ? a.size(-2) : a.size(-1);
    const int64_t Kb = tb ? b.size(-1) : b.size(-2), N = tb ? b.size(-2) : b.size(-1);
    ENSURE(Ka == Kb, "matmul: inner dimensions differ: a is %s%s, b is %s%s", a.shape_str().c_str(),
          ta ? " (transposed)" : "", b.shape_str().c_str(), tb ? " (transposed)" : "");
    const int64_t K = Ka;
    // batch: a's leading dims; b either has the same leading dims or is 2-D (shared)
    Shape lead(a.shape().begin(), a.shape().end() - 2);
    const bool b_shared = b.ndim() == 2;
    ENSURE(b_shared || Shape(b.shape().begin(), b.shape().end() - 2) == lead,
          "matmul: batch dims differ: a is %s, b is %s (b may also be 2-D)", a.shape_str().c_str(),
          b.shape_str().c_str());
    int64_t batch = shape_numel(lead);
    Shape os = lead;
    os.push_back(M);
    os.push_back(N);
    Tensor out = Tensor::empty(os, DType::F32, device_of(k));
    const float* A = a.data();
    const float* B = b.data();
    float* C = out.data();
    if (K == 0 && M * N * batch > 0) {  // an empty inner dim: C = 0
        if (k) k->zero(C, M * N * batch * sizeof(float));
        else std::fill(C, C + M * N * batch, 0.0f);
    }
    if (K > 0 && k)  // the device: the whole batch in one call
        VSD_RUN(*k, gemm_batched)(ta, tb, M, N, K, 1.0f, A, ta ? M : K, M * K, B, tb ? K : N, b_shared ? 0 : K * N, 0.0f, C, N,
                        M * N, batch, kernel_version(3));
    else if (K > 0)  // the CPU: one product at a time (gemm_cpu parallelises inside each)
        for (int64_t t = 0; t < batch; t++)
            gemm_cpu(ta, tb, M, N, K, 1.0f, A + t * M * K, ta ? M : K, B + (b_shared ? 0 : t * K * N), tb ? K : N,
                     0.0f, C + t * M * N, N);
    record("matmul", {a, b}, out, [a, b, out, ta, tb, M, N, K, batch, b_shared, k]() mutable {
        float* dA = a.needs_grad() ? a.grad() : nullptr;
        float* dB = b.needs_grad() ? b.grad() : nullptr;
        const float* dC = out.grad();
        if (k) return matmul_backward_device(*k, ta, tb, M, N, K, batch, b_shared, a.data(), b.data(), dC, dA, dB);
        for (int64_t t = 0; t < batch; t++)
            matmul_backward_one(nullptr, ta, tb, M, N, K, a.data() + t * M * K, b.data() + (b_shared ? 0 : t * K * N),
                                dC + t * M * N, dA ? dA + t * M * K : nullptr,
                                dB ? dB + (b_shared ? 0 : t * K * N) : nullptr);  // shared b: sum over batch
    });
    return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
    const Backend* k = op_device("linear", {x, w, bias});
    ENSURE(w.ndim() == 2, "linear: weight must be (out, in), got %s", w.shape_str().c_str());
    ENSURE(x.ndim() >= 1 && x.size(-1) == w.size(1), "linear: input %s does not end in in_features %lld (weight %s)",
          x.shape_str().c_str(), (long long)w.size(1), w.shape_str().c_str());
    ENSURE(!bias.defined() || (bias.ndim() == 1 && bias.size(0) == w.size(0)),
          "linear: bias must be (%lld,), got %s", (long long)w.size(0), bias.shape_str().c_str());
    const int64_t in = w.size(1), out_f = w.size(0), rows = x.numel() / (in ? in : 1);
    Shape os = x.shape();
    os.back() = out_f;
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    // y (rows, out) = x (rows, in) W^T, then + b on every row
    gemm_on(k, false, true, rows, out_f, in, 1.0f, x.data(), in, w.data(), in, 0.0f, y.data(), out_f);
    const Broadcast rows_bc = {{1, 1, rows, out_f}, {0, 0, out_f, 1}, {0, 0, 0, 1}};  // y (rows, out) + b (out)
    if (bias.defined() && k) {
        VSD_RUN(*k, binary_forward)(Binary::Add, y.data(), y.data(), bias.data(), rows_bc);
    } else if (bias.defined()) {
        const float* bp = bias.data();
        float* yp = y.data();
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < out_f; j++) yp[r * out_f + j] += bp[j];
    }
    record("linear", {x, w, bias}, y, [x, w, bias, y, rows, in, out_f, k, rows_bc]() mutable {
        const float* dy = y.grad();
        if (x.needs_grad()) gemm_on(k, false, false, rows, in, out_f, 1.0f, dy, out_f, w.data(), in, 1.0f, x.grad(), in);
        if (w.needs_grad()) gemm_on(k, true, false, out_f, in, rows, 1.0f, dy, out_f, x.data(), in, 1.0f, w.grad(), in);
        if (bias.needs_grad() && k) {
            // db += sum over rows of dy: the broadcast add's backward does exactly that reduction
            VSD_RUN(*k, binary_backward)(Binary::Add, nullptr, bias.grad(), dy, y.data(), bias.data(), rows_bc);
        } else if (bias.needs_grad()) {
            float* db = bias.grad();
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < out_f; j++) db[j] += dy[r * out_f + j];
        }
    });
    return y;
}

}  // namespace vsd
