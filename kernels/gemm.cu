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

BF16 (an option: --precision bf16, gemm_set_bf16(true); version 3 only)
    Mixed precision as PyTorch's autocast does it for matmuls: the FP32 operands (weights,
    activations, gradients) are rounded to bfloat16 (8 exponent bits like FP32, 7 mantissa bits,
    round to nearest even: bf16_from_float in src/core/bf16.h) by one conversion kernel into scratch from
    the memory pool, then ONE cublasGemmEx (CUDA_R_16BF inputs, FP32 output, CUBLAS_COMPUTE_32F:
    products exact, sums in FP32). The weights the optimiser updates stay FP32 (the "master"
    copy), and so does everything that is not a cuBLAS GEMM. No loss scaling is needed: BF16 keeps
    FP32's exponent range. Error: each input within 2^-8 relative, so an output within
    2^-7 sum_k |a_ik b_kj| plus FP32 noise. The emulator runs the same conversion kernel and a CPU
    stand-in for cublasGemmEx on the 16-bit values, so the option's effect on training can be
    studied (and tested) without a GPU. Cost: the conversion reads 4 and writes 2 bytes per operand
    element, one extra launch per GEMM.

Napkin math
    2 M N K FLOPs. H200: ~60 TFLOP/s FP32 on CUDA cores, ~400+ with TF32 tensor cores (cuBLAS),
    ~800+ dense BF16.
*/
#include <cstring>

#include "common.cuh"
#include "gemm.h"
#include "memory_pool.h"
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

// What version 3 runs: FP32, TF32 tensor cores, or BF16 inputs with FP32 sums (see the top).
enum class Math { FP32, TF32, BF16 };
static Math g_math = Math::FP32;

// FP32 -> BF16 for a whole operand (and a second one) in one launch: the conversion of BF16 mode.
__global__ void to_bf16_kernel(uint16_t* a16, const float* a, int64_t na, uint16_t* b16, const float* b, int64_t nb) {
    VSD_GRID_STRIDE(i, na + nb) {
        if (i < na) a16[i] = bf16_from_float(a[i]);
        else b16[i - na] = bf16_from_float(b[i - na]);
    }
}
// Elements from the first to one past the last an operand's product(s) read: `rows` rows of `cols`
// at stride ld, `batch` times at stride `stride`. The conversion copies the whole stretch (gaps
// too), so the 16-bit copy keeps the operand's layout and its leading dimension.
static int64_t operand_span(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
    if (rows == 0 || cols == 0) return 0;
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}
// Both operands of a (batched) product in BF16, in scratch from the pool; the caller frees them
// (in stream order, so reuse by a later request is safe).
struct Bf16Operands {
    uint16_t *a = nullptr, *b = nullptr;
};
static Bf16Operands to_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                            int64_t sA, const float* B, int64_t ldb, int64_t sB, int64_t batch) {
    const int64_t na = operand_span(ta ? K : M, ta ? M : K, lda, sA, batch);
    const int64_t nb = operand_span(tb ? N : K, tb ? K : N, ldb, sB, batch);
    Bf16Operands o;
    o.a = (uint16_t*)pool_alloc((size_t)na * 2);
    o.b = (uint16_t*)pool_alloc((size_t)nb * 2);
    VSD_LAUNCH(to_bf16_kernel, (unsigned)grid1d(na + nb), 256, 0, o.a, A, na, o.b, B, nb);
    return o;
}

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
void gemm_set_tf32(bool on) { g_math = on ? Math::TF32 : Math::FP32; }
void gemm_set_bf16(bool on) { g_math = on ? Math::BF16 : Math::FP32; }

// an input element as the tensor cores see it: FP32 (TF32-rounded in TF32 mode), or a BF16 value
static float load_in(float x) { return g_math == Math::TF32 ? tf32_round(x) : x; }
static float load_in(uint16_t x) { return float_from_bf16(x); }

// cuBLAS's column-major GEMM: C(m x n) = alpha op(A)(m x k) op(B)(k x n) + beta C, where element
// (r, c) of a column-major matrix X with leading dimension ldx is X[r + c * ldx]. T = float is
// cublasSgemm, T = uint16_t cublasGemmEx with CUDA_R_16BF inputs (sums in FP32 or wider).
template <class T>
static void colmajor_gemm(bool transa, bool transb, int m, int n, int k, float alpha, const T* A, int lda, const T* B,
                          int ldb, float beta, float* C, int ldc) {
    for (int c = 0; c < n; c++)
        for (int r = 0; r < m; r++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++)
                acc += (double)load_in(transa ? A[p + r * lda] : A[r + p * lda]) *
                       load_in(transb ? B[c + p * ldb] : B[p + c * ldb]);
            float& out = C[r + c * ldc];
            out = alpha * (float)acc + (beta == 0.0f ? 0.0f : beta * out);
        }
}
// ... strided-batched: product t reads A + t*strideA, B + t*strideB, writes C + t*strideC
template <class T>
static void colmajor_gemm_batched(bool transa, bool transb, int m, int n, int k, float alpha, const T* A, int lda,
                                  int64_t strideA, const T* B, int ldb, int64_t strideB, float beta, float* C, int ldc,
                                  int64_t strideC, int batch) {
    for (int t = 0; t < batch; t++)
        colmajor_gemm(transa, transb, m, n, k, alpha, A + t * strideA, lda, B + t * strideB, ldb, beta,
                      C + t * strideC, ldc);
}
void cublas_sgemm_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A, int lda,
                           const float* B, int ldb, float beta, float* C, int ldc) {
    colmajor_gemm(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
void cublas_sgemm_strided_batched_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A,
                                           int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                                           float beta, float* C, int ldc, int64_t strideC, int batch) {
    colmajor_gemm_batched(transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch);
}
static void blas_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                              int64_t lda, int64_t sA, const float* B, int64_t ldb, int64_t sB, float beta, float* C,
                              int64_t ldc, int64_t sC, int64_t batch) {
    if (g_math == Math::BF16) {
        const Bf16Operands o = to_bf16(ta, tb, M, N, K, A, lda, sA, B, ldb, sB, batch);
        ::vsd::count_blas(batch == 1 ? "cublas_gemm_ex_bf16" : "cublas_gemm_strided_batched_ex_bf16");
        if (!vsd_sim::count_only())
            colmajor_gemm_batched(tb, ta, (int)N, (int)M, (int)K, alpha, o.b, (int)ldb, sB, o.a, (int)lda, sA, beta,
                                  C, (int)ldc, sC, (int)batch);
        pool_free(o.a);
        pool_free(o.b);
        return;
    }
    ::vsd::count_blas(batch == 1 ? "cublas_sgemm" : "cublas_sgemm_strided_batched");
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
static cublasMath_t blas_math() { return g_math == Math::TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH; }
static cublasHandle_t blas_handle() {
    if (!g_blas) {
        VSD_CUBLAS_CHECK(cublasCreate(&g_blas));
        VSD_CUBLAS_CHECK(cublasSetMathMode(g_blas, blas_math()));
    }
    return g_blas;
}
static void set_math(Math m) {
    g_math = m;
    if (g_blas) VSD_CUBLAS_CHECK(cublasSetMathMode(g_blas, blas_math()));
}
void gemm_set_tf32(bool on) { set_math(on ? Math::TF32 : Math::FP32); }
void gemm_set_bf16(bool on) { set_math(on ? Math::BF16 : Math::FP32); }
static void blas_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                              int64_t lda, int64_t sA, const float* B, int64_t ldb, int64_t sB, float beta, float* C,
                              int64_t ldc, int64_t sC, int64_t batch) {
    const cublasOperation_t opA = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opB = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (g_math == Math::BF16) {
        const Bf16Operands o = to_bf16(ta, tb, M, N, K, A, lda, sA, B, ldb, sB, batch);
        if (batch == 1) {
            ::vsd::count_blas("cublas_gemm_ex_bf16");
            VSD_CUBLAS_CHECK(cublasGemmEx(blas_handle(), opB, opA, (int)N, (int)M, (int)K, &alpha, o.b, CUDA_R_16BF,
                                          (int)ldb, o.a, CUDA_R_16BF, (int)lda, &beta, C, CUDA_R_32F, (int)ldc,
                                          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        } else {
            ::vsd::count_blas("cublas_gemm_strided_batched_ex_bf16");
            VSD_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
                blas_handle(), opB, opA, (int)N, (int)M, (int)K, &alpha, o.b, CUDA_R_16BF, (int)ldb, sB, o.a,
                CUDA_R_16BF, (int)lda, sA, &beta, C, CUDA_R_32F, (int)ldc, sC, (int)batch, CUBLAS_COMPUTE_32F,
                CUBLAS_GEMM_DEFAULT));
        }
        pool_free(o.a);
        pool_free(o.b);
        return;
    }
    if (batch == 1) {
        ::vsd::count_blas("cublas_sgemm");
        VSD_CUBLAS_CHECK(cublasSgemm(blas_handle(), opB, opA, (int)N, (int)M, (int)K, &alpha, B, (int)ldb, A, (int)lda,
                                     &beta, C, (int)ldc));
        return;
    }
    ::vsd::count_blas("cublas_sgemm_strided_batched");
    VSD_CUBLAS_CHECK(cublasSgemmStridedBatched(blas_handle(), opB, opA, (int)N, (int)M, (int)K, &alpha, B, (int)ldb, sB,
                                               A, (int)lda, sA, &beta, C, (int)ldc, sC, (int)batch));
}
#endif

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc, int version) {
    if (M == 0 || N == 0) return;
    const dim3 block(kTile, kTile), grid((unsigned)ceil_div(N, kTile), (unsigned)ceil_div(M, kTile));
    if (version == 1) VSD_LAUNCH(gemm_kernel1, grid, block, 0, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else if (version == 2) VSD_LAUNCH(gemm_kernel2, grid, block, 0, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else blas_gemm_batched(ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
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
