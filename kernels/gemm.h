// gemm.h — single-precision matrix multiply on the CPU, row-major.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N]
//   op(A) = A (stored M x K, row stride lda) or A^T when trans_a (A stored K x M)
//   op(B) = B (stored K x N, row stride ldb) or B^T when trans_b (B stored N x K)
//
// gemm_naive_cpu is the teaching reference (three loops); gemm_cpu is the fast one (cache
// blocking, packing, a register-tiled micro-kernel, OpenMP). Both honour beta == 0 by overwriting C
// (garbage or NaN already in C does not leak through), as BLAS does.
#pragma once
#include <cstdint>
#include <vector>

#include "../src/core/bf16.h"
#include "launch.h"

namespace vsd {

void gemm_naive_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// op(B) packed once for several products with the same B, e.g. a GRU's recurrent weights, which
// multiply a new state at every time step: gemm_cpu would pack them again each time (for a batch
// of 128 that repacking is a quarter of the product's time). gemm_packed_cpu(ta, M, alpha, A, lda,
// packed, beta, C, ldc) then equals gemm_cpu(ta, tb, M, N, K, ..., B, ldb, ...) bit for bit: the same
// panels, the same order of operations. K x N is op(B)'s shape.
struct PackedB {
    PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb);
    int64_t K = 0, N = 0;
    std::vector<float> data;
    const void* kernel = nullptr;  // the blocked kernel whose layout `data` has
};
void gemm_packed_cpu(bool trans_a, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                     float* C, int64_t ldc);

// The kernel gemm_cpu runs (chosen at run time: the widest of AVX-512, AVX2+FMA and generic this
// CPU has, or VSD_GEMM=avx512|avx2|generic), for the benchmark's report.
const char* gemm_cpu_config();
// One instruction set's blocked kernel, for the tests and the benchmark: C += alpha op(A) op(B)
// with isa "avx512", "avx2" or "generic"; false (nothing done) when this CPU lacks it.
bool gemm_blocked_cpu(const char* isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc);

// bfloat16 (bf16_from_float, float_from_bf16, bf16_round) for --precision bf16: src/core/bf16.h

// the CUDA versions
VSD_LAUNCHERS(
    // row-major C = alpha op(A) op(B) + beta C; version 1 naive, 2 tiled, 3 cuBLAS (gemm.cu)
    void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int version);
    void gemm_set_tf32(bool on);  // version 3 may use TF32 tensor cores (the emulator rounds like them)
    // version 3 rounds its inputs to BF16 and runs cublasGemmEx (FP32 sums, FP32 C); off: FP32.
    // gemm_set_tf32 and gemm_set_bf16 each switch the other mode off.
    void gemm_set_bf16(bool on);
    // batch products: operand t at A + t*strideA, B + t*strideB (0: shared), C + t*strideC
    void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                      int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C,
                      int64_t ldc, int64_t strideC, int64_t batch, int version);
)

namespace sim {
// the emulator's stand-in for cublasSgemm: column-major, exactly cuBLAS's argument semantics
void cublas_sgemm_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A, int lda,
                           const float* B, int ldb, float beta, float* C, int ldc);
// and for cublasSgemmStridedBatched
void cublas_sgemm_strided_batched_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A,
                                           int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                                           float beta, float* C, int ldc, int64_t strideC, int batch);
}  // namespace sim

}  // namespace vsd
