// bench_kernels.cu — time every CUDA kernel version on the GPU against the device's ceilings.
//   build/release-cuda/bench_kernels      (CUDA builds; prints one line and exits 0 without a GPU)
// Protocol: count the bytes (bandwidth-bound kernels) or FLOPs (GEMM) first, run 3 warm-ups, time
// 20 runs with CUDA events, report the median and the fraction of the ceiling. Ceilings default to
// an H200 SXM (4.8 TB/s HBM3e; 67 TFLOP/s FP32 without tensor cores); override with
// VSD_PEAK_GBS / VSD_PEAK_TFLOPS.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "../kernels/common.cuh"
#include "../kernels/elementwise.h"
#include "../kernels/gemm.h"
#include "../kernels/l2norm.h"
#include "../kernels/layernorm.h"
#include "../kernels/memory_pool.h"
#include "../kernels/reduce.h"
#include "../kernels/relation.h"
#include "../kernels/softmax.h"
#include "../kernels/attention.h"
#include "../kernels/bias_fused.h"
#include "../kernels/cudnn.h"
#include "../src/core/tape.h"
#include "../src/ops/ops.h"
#include "../src/core/check.h"

using namespace vsd;

static double median_ms(const std::function<void()>& f) {
    cudaEvent_t a, b;
    VSD_CUDA_CHECK(cudaEventCreate(&a));
    VSD_CUDA_CHECK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++) f();
    std::vector<float> ms;
    for (int i = 0; i < 20; i++) {
        VSD_CUDA_CHECK(cudaEventRecord(a));
        f();
        VSD_CUDA_CHECK(cudaEventRecord(b));
        VSD_CUDA_CHECK(cudaEventSynchronize(b));
        float t;
        VSD_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
        ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return ms[ms.size() / 2];
}

static int body(int, char**) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        std::printf("no GPU: the kernel bench needs one (the emulator checks correctness, not speed)\n");
        return 0;
    }
    cudaDeviceProp prop;
    VSD_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const double peak_gbs = std::getenv("VSD_PEAK_GBS") ? std::atof(std::getenv("VSD_PEAK_GBS")) : 4800.0;
    const double peak_tf = std::getenv("VSD_PEAK_TFLOPS") ? std::atof(std::getenv("VSD_PEAK_TFLOPS")) : 67.0;
    std::printf("# %s, ceilings %.0f GB/s, %.0f TFLOP/s FP32\n", prop.name, peak_gbs, peak_tf);
    std::printf("%-34s %-18s %10s %12s %8s\n", "kernel", "size", "median us", "GB/s|TFLOP/s", "of peak");
    auto report_bw = [&](const char* k, const char* size, double ms, double bytes) {
        double gbs = bytes / (ms * 1e-3) / 1e9;
        std::printf("%-34s %-18s %10.1f %12.1f %7.1f%%\n", k, size, ms * 1e3, gbs, 100 * gbs / peak_gbs);
    };
    auto report_fl = [&](const char* k, const char* size, double ms, double flops) {
        double tf = flops / (ms * 1e-3) / 1e12;
        std::printf("%-34s %-18s %10.1f %12.2f %7.1f%%\n", k, size, ms * 1e3, tf, 100 * tf / peak_tf);
    };
    const int64_t R = 4096, N = 1024;  // 4096 rows of 1024: 16 MiB per tensor
    float *x = cuda::dev_alloc(R * N), *y = cuda::dev_alloc(R * N), *nr = cuda::dev_alloc(R), *w = cuda::dev_alloc(N);
    float *b = cuda::dev_alloc(N), *m = cuda::dev_alloc(R), *rs = cuda::dev_alloc(R);
    VSD_CUDA_CHECK(cudaMemset(x, 0, R * N * 4));
    VSD_CUDA_CHECK(cudaMemset(w, 0, N * 4));
    VSD_CUDA_CHECK(cudaMemset(b, 0, N * 4));
    const double rw = 2.0 * R * N * 4;  // read x + write y
    for (int v : {1, 2}) {
        char k[64];
        std::snprintf(k, sizeof k, "l2norm_forward v%d", v);
        report_bw(k, "4096 x 1024", median_ms([&] { cuda::l2norm_forward(y, nr, x, R, N, 1e-8f, v); }), rw);
    }
    for (int v : {1, 2, 3}) {
        char k[64];
        std::snprintf(k, sizeof k, "rowsum v%d", v);
        report_bw(k, "4096 x 1024", median_ms([&] { cuda::rowsum_forward(y, x, R, N, 1.0f, v); }), R * N * 4.0);
    }
    for (int v : {1, 2}) {
        char k[64];
        std::snprintf(k, sizeof k, "softmax_forward v%d", v);
        report_bw(k, "4096 x 1024", median_ms([&] { cuda::softmax_forward(y, x, nullptr, R, N, false, v); }), rw);
    }
    report_bw("unary_forward (exp)", "4M", median_ms([&] { cuda::unary_forward(Unary::Exp, y, x, R * N, 0, 0); }), rw);
    report_bw("layernorm_forward", "4096 x 1024", median_ms([&] { cuda::layernorm_forward(y, m, rs, x, w, b, R, N, 1e-5f); }), rw);
    const int64_t M = 4096, K = 2048, NN = 1024;  // the image fc: (128*32 regions) x 2048 -> 1024
    float *A = cuda::dev_alloc(M * K), *B = cuda::dev_alloc(K * NN), *C = cuda::dev_alloc(M * NN);
    VSD_CUDA_CHECK(cudaMemset(A, 0, M * K * 4));
    VSD_CUDA_CHECK(cudaMemset(B, 0, K * NN * 4));
    for (int v : {1, 2, 3}) {
        char k[64];
        std::snprintf(k, sizeof k, "gemm v%d%s", v, v == 3 ? " (cuBLAS)" : "");
        report_fl(k, "4096x1024x2048", median_ms([&] { cuda::gemm(false, true, M, NN, K, 1.0f, A, K, B, K, 0.0f, C, NN, v); }),
                  2.0 * M * NN * K);
    }
    {   // attention's scores for one BERT layer: 128 captions x 12 heads of (32 x 64) (64 x 32)
        const int64_t T = 1536, m = 32, kk = 64;
        float *Q = cuda::dev_alloc(T * m * kk), *S = cuda::dev_alloc(T * m * m);
        VSD_CUDA_CHECK(cudaMemset(Q, 0, T * m * kk * 4));
        report_fl("gemm x1536 (one cuBLAS call each)", "1536 x 32x32x64", median_ms([&] {
                      for (int64_t t = 0; t < T; t++)
                          cuda::gemm(false, true, m, m, kk, 1.0f, Q + t * m * kk, kk, Q + t * m * kk, kk, 0.0f, S + t * m * m, m, 3);
                  }),
                  2.0 * T * m * m * kk);
        report_fl("gemm_batched (strided-batched)", "1536 x 32x32x64", median_ms([&] {
                      cuda::gemm_batched(false, true, m, m, kk, 1.0f, Q, kk, m * kk, Q, kk, m * kk, 0.0f, S, m, m * m, T, 3);
                  }),
                  2.0 * T * m * m * kk);
    }
    cuda::gemm_set_tf32(true);  // --tf32 1 (the FP32 ceiling is the wrong one here: > 100% is the point)
    report_fl("gemm v3 (cuBLAS, TF32)", "4096x1024x2048",
              median_ms([&] { cuda::gemm(false, true, M, NN, K, 1.0f, A, K, B, K, 0.0f, C, NN, 3); }), 2.0 * M * NN * K);
    cuda::gemm_set_tf32(false);
    // HREM's fused region-word statistics at the F30K training shape: B = 128, 20 words, 36 regions
    {
        const int64_t Bt = 128, Lw = 20, Rr = 36, E = 1024;
        float *psi = cuda::dev_alloc(Bt * Lw * E), *phi = cuda::dev_alloc(Bt * Rr * E), *o = cuda::dev_alloc(Bt * Bt * 24);
        int64_t* len = nullptr;
        VSD_CUDA_CHECK(cudaMalloc(&len, Bt * sizeof(int64_t)));
        std::vector<int64_t> hl(Bt, 12);
        VSD_CUDA_CHECK(cudaMemcpy(len, hl.data(), Bt * sizeof(int64_t), cudaMemcpyHostToDevice));
        VSD_CUDA_CHECK(cudaMemset(psi, 0, Bt * Lw * E * 4));
        VSD_CUDA_CHECK(cudaMemset(phi, 0, Bt * Rr * E * 4));
        report_fl("region_word_stats (fused)", "128^2 x 20 x 36 x 1024", median_ms([&] {
                      cuda::region_word_stats(o, o + Bt * Bt, o + Bt * Bt * 11, o + Bt * Bt * 12, psi, phi, len, Bt, Lw, Bt, Rr,
                                              E, 10, 0.1f, 1e-8f);
                  }),
                  2.0 * Bt * Bt * Lw * Rr * E);
    }
    // fused attention at bert-base inference: 32 sentences x 24 tokens, 12 heads of 64
    {
        const int64_t Bq = 32, L = 24, A = 12, d = 64, H = A * d;
        float *q = cuda::dev_alloc(Bq * L * H), *o = cuda::dev_alloc(Bq * L * H);
        VSD_CUDA_CHECK(cudaMemset(q, 0, Bq * L * H * 4));
        report_fl("attention_forward (fused)", "32 x 24 x 12 x 64",
                  median_ms([&] { cuda::attention_forward(o, q, q, q, nullptr, nullptr, AttnArgs{Bq, L, A, d, 0.125f}); }),
                  4.0 * Bq * A * L * L * d);
    }
    // the training kernels of a bert-base layer at B = 128, 32 tokens: the fused attention forward
    // (keeping P, dropout 0.1) + backward, and the bias fusions' forward + backward (bytes: the
    // tensors each pass reads and writes)
    {
        const int64_t Bq = 128, L = 32, A = 12, d = 64, H = A * d, n = Bq * L * H, np = Bq * A * L * L, F = 4 * H;
        float *q = cuda::dev_alloc(n), *o = cuda::dev_alloc(n), *g = cuda::dev_alloc(n), *P = cuda::dev_alloc(np),
              *dS = cuda::dev_alloc(np), *z = cuda::dev_alloc(Bq * L * F), *y = cuda::dev_alloc(Bq * L * F),
              *b = cuda::dev_alloc(F);
        VSD_CUDA_CHECK(cudaMemset(q, 0, n * 4));
        VSD_CUDA_CHECK(cudaMemset(z, 0, Bq * L * F * 4));
        VSD_CUDA_CHECK(cudaMemset(b, 0, F * 4));
        AttnArgs a{Bq, L, A, d, 0.125f, 0.1f, 7};
        report_fl("attention train (fwd + bwd)", "128 x 32 x 12 x 64", median_ms([&] {
                      cuda::attention_forward(o, q, q, q, nullptr, P, a);
                      cuda::attention_backward(g, g, g, true, o, q, q, q, P, dS, a);
                  }),
                  12.0 * Bq * A * L * L * d);
        report_bw("bias_gelu (fwd + bwd)", "4096 x 3072", median_ms([&] {
                      cuda::bias_fused_forward(BiasFused::Gelu, y, z, b, nullptr, Bq * L, F, 0.0f, 0);
                      cuda::bias_fused_backward(BiasFused::Gelu, y, b, nullptr, z, z, b, Bq * L, F, 0.0f, 0);
                  }),
                  5.0 * Bq * L * F * 4);
        report_bw("bias_dropout_add (fwd + bwd)", "4096 x 768", median_ms([&] {
                      cuda::bias_fused_forward(BiasFused::DropoutResidual, y, z, b, q, Bq * L, H, 0.1f, 7);
                      cuda::bias_fused_backward(BiasFused::DropoutResidual, y, b, g, o, z, b, Bq * L, H, 0.1f, 7);
                  }),
                  8.0 * Bq * L * H * 4);
    }
    // cuDNN (--cudnn 1) against our own paths, at the op level (tensors and autograd included)
    std::string why;
    if (!cudnn::available(&why)) {
        std::printf("cuDNN rows skipped: %s\n", why.c_str());
    } else {
        Rng rng(0);
        // GPO's BiGRU text encoder: 128 captions of 5..20 words, 300 -> 2 x 1024, forward + backward
        const int64_t B = 128, T = 20, I = 300, H = 1024;
        std::vector<Tensor> w;
        for (int dir = 0; dir < 2; dir++)
            for (Shape sh : {Shape{3 * H, I}, Shape{3 * H, H}, Shape{3 * H}, Shape{3 * H}})
                w.push_back(Tensor::rand(sh, rng, -0.03f, 0.03f).to(Device::CUDA).requires_grad());
        Tensor x = Tensor::rand({B, T, I}, rng, -1.0f, 1.0f).to(Device::CUDA).requires_grad();
        std::vector<int64_t> lens(B);
        double tokens = 0;
        for (int64_t b = 0; b < B; b++) tokens += (double)(lens[b] = 5 + b % 16);
        Tensor len = Tensor::from_i64({B}, lens), seed = Tensor::rand({B, T, 2 * H}, rng).to(Device::CUDA);
        const double gru_flops = 3.0 * 2.0 * tokens * 3 * H * (I + H) * 2;  // forward, backward ~2x; 2 directions
        report_fl("BiGRU fwd+bwd, ours (GEMM+gates)", "128 x 20, 300->2x1024", median_ms([&] {
                      tape().clear();
                      Tensor f = gru(x, len, w[0], w[1], w[2], w[3], false), r = gru(x, len, w[4], w[5], w[6], w[7], true);
                      tape().backward(concat({f, r}, 2), seed);
                  }),
                  gru_flops);
        report_fl("BiGRU fwd+bwd, cuDNN", "128 x 20, 300->2x1024", median_ms([&] {
                      tape().clear();
                      tape().backward(gru_cudnn(x, len, w), seed);
                  }),
                  gru_flops);
        // bert-base self-attention with its projections, inference: 32 sentences x 24 tokens
        const int64_t Bq = 32, L = 24, E = 768, A = 12;
        NoGrad ng;
        Tensor h = Tensor::rand({Bq, L, E}, rng, -1.0f, 1.0f).to(Device::CUDA);
        std::vector<Tensor> p;
        for (int i = 0; i < 3; i++) {
            p.push_back(Tensor::rand({E, E}, rng, -0.03f, 0.03f).to(Device::CUDA));
            p.push_back(Tensor::rand({E}, rng, -0.03f, 0.03f).to(Device::CUDA));
        }
        Tensor keep = Tensor::ones({Bq, L}).to(Device::CUDA);
        std::vector<int> key_len(Bq, (int)L);
        const double attn_flops = 3 * 2.0 * Bq * L * E * E + 4.0 * Bq * L * L * E;
        report_fl("QKV + attention, ours (cuBLAS+fused)", "32 x 24 x 768, 12 heads", median_ms([&] {
                      attention(linear(h, p[0], p[1]), linear(h, p[2], p[3]), linear(h, p[4], p[5]), keep, A);
                  }),
                  attn_flops);
        report_fl("QKV + attention, cuDNN MHA", "32 x 24 x 768, 12 heads", median_ms([&] {
                      attention_cudnn(h, p[0], p[1], p[2], p[3], p[4], p[5], key_len, A);
                  }),
                  attn_flops);
    }
    std::printf("%s\n", cuda::pool_stats_str().c_str());
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
