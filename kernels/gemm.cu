/*
Matrix multiply on the GPU, row-major: C = alpha op(A) op(B) + beta C.   CPU reference: kernels/gemm.cpp

Versions (each fixes the previous one's main cost)
    1  one thread per C element, K loop from global memory: every A and B element is read M or N
       times from DRAM; ~2 FLOP per 8 bytes, hopelessly bandwidth-bound.
    2  16 x 16 tiles in shared memory: a block loads a 16-wide slab of A and of B once, then every
       thread reuses it 16 times. DRAM traffic drops 16x; still far from peak (no register tiling,
       no tensor cores): this is the teaching version.
    3  cuBLAS (the expert upper bound, llm.c's argument): cuBLAS is column-major, so the row-major
       product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T, which is the
       same memory: cublasSgemm(opB, opA, N, M, K, B, ldb, A, lda, C, ldc). In the emulator,
       version 3 calls sim::cublas_sgemm_colmajor, a CPU implementation of exactly cuBLAS's
       column-major semantics, so this argument swap is tested without a GPU.

Batched (gemm_batched): `batch` independent products, operand t at A + t*strideA, B + t*strideB
(stride 0: one B shared by all), C + t*strideC. Version 3 is ONE cublasSgemmStridedBatched call
(the same row-major -> column-major swap); versions 1 and 2 launch the teaching kernels once per
product. Why it matters: attention multiplies (B*heads) tiny matrices, e.g. 128*12 = 1,536
products of 32x64x32 for one BERT layer; one launch each would cost ~1,536 x ~5 us of launch
overhead for ~0.2 GFLOP of work. In the emulator, version 3 runs
sim::cublas_sgemm_strided_batched_colmajor, cuBLAS's strided-batched semantics on the CPU.

TF32 (an option: --tf32 1, gemm_set_tf32(true); version 3 only)
    cuBLAS may then run FP32 products on tensor cores in TF32: each input keeps 10 of its 23
    mantissa bits (rounded to nearest), products and sums stay FP32. ~8x the FLOP rate for a
    relative error of about 2^-11 per input. The emulator's cuBLAS rounds its inputs the same way
    (tf32_round), so what the option does to results can be studied without a GPU.

Napkin math
    2 M N K FLOPs. H200: ~60 TFLOP/s FP32 on CUDA cores, ~400+ with TF32 tensor cores (cuBLAS).
*/
#include <cstring>

#include "common.cuh"
#include "gemm.h"
#ifndef VSD_SIM
#include <cublas_v2.h>
#endif

namespace vsd {
namespace VSD_KNS {

// element (i, k) of op(A) and (k, j) of op(B), for row-major storage
__device__ inline float at_a(const float* A, int64_t lda, bool ta, int64_t i, int64_t k) { return ta ? A[k * lda + i] : A[i * lda + k]; }
__device__ inline float at_b(const float* B, int64_t ldb, bool tb, int64_t k, int64_t j) { return tb ? B[j * ldb + k] : B[k * ldb + j]; }

__global__ void gemm_kernel1(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                             const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y, j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int64_t k = 0; k < K; k++) acc += at_a(A, lda, ta, i, k) * at_b(B, ldb, tb, k, j);
    C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
}

constexpr int kTile = 16;

__global__ void gemm_kernel2(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                             const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    __shared__ float As[kTile][kTile];
    __shared__ float Bs[kTile][kTile];
    const int ty = threadIdx.y, tx = threadIdx.x;
    const int64_t i = (int64_t)blockIdx.y * kTile + ty, j = (int64_t)blockIdx.x * kTile + tx;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < K; k0 += kTile) {
        // each thread loads one element of each tile (zero outside the matrices)
        As[ty][tx] = (i < M && k0 + tx < K) ? at_a(A, lda, ta, i, k0 + tx) : 0.0f;
        Bs[ty][tx] = (k0 + ty < K && j < N) ? at_b(B, ldb, tb, k0 + ty, j) : 0.0f;
        __syncthreads();  // the tiles are complete
        for (int k = 0; k < kTile; k++) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();  // everyone is done with the tiles before they are overwritten
    }
    if (i < M && j < N) C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
}

static bool g_tf32 = false;  // version 3 may use TF32 tensor cores

#ifdef VSD_SIM
// FP32 -> TF32: keep the top 10 mantissa bits, rounding to nearest with ties away from zero (the
// PTX cvt.rna.tf32.f32 rounding); infinities and NaNs pass unchanged.
static float tf32_round(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&x, &u, 4);
    return x;
}
void gemm_set_tf32(bool on) { g_tf32 = on; }

// cuBLAS's sgemm, column-major: C(m x n) = alpha op(A)(m x k) op(B)(k x n) + beta C, where element
// (r, c) of a column-major matrix X with leading dimension ldx is X[r + c * ldx].
void cublas_sgemm_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A, int lda,
                           const float* B, int ldb, float beta, float* C, int ldc) {
    for (int c = 0; c < n; c++)
        for (int r = 0; r < m; r++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++) {
                float a = transa ? A[p + r * lda] : A[r + p * lda];
                float b = transb ? B[c + p * ldb] : B[p + c * ldb];
                if (g_tf32) a = tf32_round(a), b = tf32_round(b);
                acc += (double)a * b;
            }
            float& out = C[r + c * ldc];
            out = alpha * (float)acc + (beta == 0.0f ? 0.0f : beta * out);
        }
}
// cuBLAS's strided-batched sgemm: product t reads A + t*strideA, B + t*strideB, writes C + t*strideC
void cublas_sgemm_strided_batched_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A,
                                           int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                                           float beta, float* C, int ldc, int64_t strideC, int batch) {
    for (int t = 0; t < batch; t++)
        cublas_sgemm_colmajor(transa, transb, m, n, k, alpha, A + t * strideA, lda, B + t * strideB, ldb, beta,
                              C + t * strideC, ldc);
}
static void blas_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                      const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    ::vsd::count_blas("cublas_sgemm");
    if (vsd_sim::count_only()) return;
    cublas_sgemm_colmajor(tb, ta, (int)N, (int)M, (int)K, alpha, B, (int)ldb, A, (int)lda, beta, C, (int)ldc);
}
static void blas_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                              int64_t lda, int64_t sA, const float* B, int64_t ldb, int64_t sB, float beta, float* C,
                              int64_t ldc, int64_t sC, int64_t batch) {
    ::vsd::count_blas("cublas_sgemm_strided_batched");
    if (vsd_sim::count_only()) return;
    cublas_sgemm_strided_batched_colmajor(tb, ta, (int)N, (int)M, (int)K, alpha, B, (int)ldb, sB, A, (int)lda, sA, beta,
                                          C, (int)ldc, sC, (int)batch);
}
#else
#define VSD_CUBLAS_CHECK(call)                                                     \
    do {                                                                           \
        cublasStatus_t s_ = (call);                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) FATAL("cuBLAS call %s failed: status %d", #call, (int)s_); \
    } while (0)
static cublasHandle_t g_blas = nullptr;
static cublasHandle_t blas_handle() {
    if (!g_blas) {
        VSD_CUBLAS_CHECK(cublasCreate(&g_blas));
        VSD_CUBLAS_CHECK(cublasSetMathMode(g_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    }
    return g_blas;
}
void gemm_set_tf32(bool on) {
    g_tf32 = on;
    if (g_blas) VSD_CUBLAS_CHECK(cublasSetMathMode(g_blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}
static void blas_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                      const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    ::vsd::count_blas("cublas_sgemm");
    VSD_CUBLAS_CHECK(cublasSgemm(blas_handle(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)N,
                                 (int)M, (int)K, &alpha, B, (int)ldb, A, (int)lda, &beta, C, (int)ldc));
}
static void blas_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                              int64_t lda, int64_t sA, const float* B, int64_t ldb, int64_t sB, float beta, float* C,
                              int64_t ldc, int64_t sC, int64_t batch) {
    ::vsd::count_blas("cublas_sgemm_strided_batched");
    VSD_CUBLAS_CHECK(cublasSgemmStridedBatched(blas_handle(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                               ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)N, (int)M, (int)K, &alpha, B,
                                               (int)ldb, sB, A, (int)lda, sA, &beta, C, (int)ldc, sC, (int)batch));
}
#endif

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc, int version) {
    if (M == 0 || N == 0) return;
    const dim3 block(kTile, kTile), grid((unsigned)ceil_div(N, kTile), (unsigned)ceil_div(M, kTile));
    if (version == 1) VSD_LAUNCH(gemm_kernel1, grid, block, 0, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else if (version == 2) VSD_LAUNCH(gemm_kernel2, grid, block, 0, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else blas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
                  int64_t strideC, int64_t batch, int version) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (version == 3) {
        blas_gemm_batched(ta, tb, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch);
        return;
    }
    for (int64_t t = 0; t < batch; t++)  // the teaching kernels: one launch per product
        gemm(ta, tb, M, N, K, alpha, A + t * strideA, lda, B + t * strideB, ldb, beta, C + t * strideC, ldc, version);
}

}  // namespace VSD_KNS
}  // namespace vsd
