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

namespace vsd {

void gemm_naive_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The micro-kernel's register tile, for the benchmark's report.
const char* gemm_cpu_config();

}  // namespace vsd
