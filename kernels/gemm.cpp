// gemm.cpp — CPU matrix multiply: a three-loop reference, then a blocked kernel near BLAS speed.
//
// Dimension legend: M rows of C, N columns of C, K the shared (inner) dimension.
//
// Why the naive loop is slow: for each C[i,j] it streams a row of A and a column of B from memory.
// A column of row-major B is strided (one float per cache line), and nothing is reused from cache,
// so the loop is memory-bound at a few GFLOP/s while the FMA units could do ~100x more.
//
// The fast version follows the BLIS/GotoBLAS decomposition (five loops around a micro-kernel):
//
//   split C into one tile per thread (along its longer side); then, in each thread:
//   for jc in N step NC:                      B block (KC x NC) lives in L2/L3
//     for pc in K step KC:
//       pack B[pc:pc+KC, jc:jc+NC] into NR-wide column panels       (Bp: contiguous, k-major)
//       for ic in M step MC:                   A block (MC x KC) lives in L2
//         pack A[ic:ic+MC, pc:pc+KC] into MR-tall row panels        (Ap: contiguous, k-major)
//         for jr in NC step NR:                B micro-panel (KC x NR) lives in L1
//           for ir in MC step MR:
//             micro-kernel: C[MR x NR] += Ap_panel (MR x KC) * Bp_panel (KC x NR)
//
// The micro-kernel keeps the MR x NR tile of C in vector registers for the whole KC loop: each k
// step loads NR floats of B (2 vectors), broadcasts MR floats of A, and issues 2*MR FMAs. With
// AVX-512 (16 floats/vector) the tile is 8 x 32: 16 accumulator registers + 2 for B + 1 broadcast,
// within the 32 zmm registers. Packing makes every load in the micro-kernel unit-stride and handles
// transposes once, so the micro-kernel never sees a stride. We write it with GCC vector extensions
// (`vfloat`), so the compiler emits vfmadd231ps for whatever -march=native provides.
//
// Napkin math (this machine: 2 Zen cores): peak ~ 2 cores x 2 FMA/cycle x 16 lanes x 2 flop x ~3 GHz
// ~ 200-400 GFLOP/s depending on how the core splits 512-bit ops; `make bench` measures us against
// torch's BLAS on the same shapes.
#include "gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace vsd {

// ---------------------------------------------------------------------------------------------
// Version 1: the reference. Plain loops, double accumulation-free, exactly the definition.
void gemm_naive_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k];  // op(A)[i,k]
                float b = tb ? B[j * ldb + k] : B[k * ldb + j];  // op(B)[k,j]
                acc += a * b;
            }
            float* c = &C[i * ldc + j];
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Version 2: blocked + packed + register-tiled.
#if defined(__AVX512F__)
#define VSD_VW 16  // floats per vector register
#ifndef VSD_MR
#define VSD_MR 8
#endif
#elif defined(__AVX__)
#define VSD_VW 8
#define VSD_MR 6
#else
#define VSD_VW 4
#define VSD_MR 4
#endif

typedef float vfloat __attribute__((vector_size(VSD_VW * 4)));
static constexpr int VW = VSD_VW;
static constexpr int MR = VSD_MR;      // rows of the register tile
static constexpr int NR = 2 * VSD_VW;  // columns of the register tile (two vectors)
#ifndef VSD_KC
#define VSD_KC 256
#endif
#ifndef VSD_MC
#define VSD_MC 144
#endif
#ifndef VSD_NC
#define VSD_NC 3072
#endif
static constexpr int64_t KC = VSD_KC;      // depth of a packed block
static constexpr int64_t MC_MAX = VSD_MC;  // rows of an A block (multiple of MR; MC*KC*4 bytes in L2)
static constexpr int64_t NC = VSD_NC;      // columns of a B block (KC*NC*4 bytes in L3)

const char* gemm_cpu_config() {
#if defined(__AVX512F__)
    return "AVX-512, 8x32 register tile";
#elif defined(__AVX__)
    return "AVX2, 6x16 register tile";
#else
    return "generic, 4x8 register tile";
#endif
}

static inline vfloat vload(const float* p) {
    vfloat v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}
static inline void vstore(float* p, vfloat v) { std::memcpy(p, &v, sizeof(v)); }

// C[0:m, 0:n] += alpha * a_panel (MR x kc, k-major) * b_panel (kc x NR, k-major).
// m <= MR and n <= NR; a partial tile goes through a small buffer.
static inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                                float* __restrict c, int64_t ldc, float alpha, int m, int n) {
    vfloat acc0[MR], acc1[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) { acc0[i] = vfloat{}; acc1[i] = vfloat{}; }
    for (int64_t k = 0; k < kc; k++) {
        vfloat b0 = vload(b + k * NR), b1 = vload(b + k * NR + VW);
        const float* ak = a + k * MR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            acc0[i] += ak[i] * b0;  // scalar * vector: the scalar is broadcast (vfmadd231ps)
            acc1[i] += ak[i] * b1;
        }
    }
    if (m == MR && n == NR) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float* ci = c + i * ldc;
            vstore(ci, vload(ci) + alpha * acc0[i]);
            vstore(ci + VW, vload(ci + VW) + alpha * acc1[i]);
        }
    } else {
        alignas(64) float tmp[MR][NR];
        for (int i = 0; i < MR; i++) { vstore(tmp[i], acc0[i]); vstore(tmp[i] + VW, acc1[i]); }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[i * ldc + j] += alpha * tmp[i][j];
    }
}

// Pack op(A)[ic:ic+mc, pc:pc+kc] into ceil(mc/MR) panels, each kc x MR (k-major), zero-padded.
// The source is read along its rows (one contiguous stream at a time); the scattered writes land in
// the small panel, which stays in cache.
static void pack_a(bool ta, const float* A, int64_t lda, int64_t ic, int64_t pc, int64_t mc, int64_t kc, float* ap) {
    for (int64_t ip = 0; ip < mc; ip += MR) {
        const int mr = (int)std::min<int64_t>(MR, mc - ip);
        float* dst = ap + ip * kc;  // panel ip/MR starts at (ip/MR)*MR*kc
        if (!ta) {
            for (int i = 0; i < mr; i++) {  // row i of the panel = row ic+ip+i of A, contiguous in k
                const float* src = A + (ic + ip + i) * lda + pc;
                for (int64_t k = 0; k < kc; k++) dst[k * MR + i] = src[k];
            }
        } else {
            for (int64_t k = 0; k < kc; k++) {  // A stored K x M: row pc+k holds the panel's k-th column
                const float* src = A + (pc + k) * lda + ic + ip;
                for (int i = 0; i < mr; i++) dst[k * MR + i] = src[i];
            }
        }
        for (int i = mr; i < MR; i++)
            for (int64_t k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
    }
}

// Pack op(B)[pc:pc+kc, jc:jc+nc] into ceil(nc/NR) panels, each kc x NR (k-major), zero-padded.
static void pack_b_panel(bool tb, const float* B, int64_t ldb, int64_t pc, int64_t jc, int64_t jp, int64_t nc,
                         int64_t kc, float* bp) {
    const int nr = (int)std::min<int64_t>(NR, nc - jp);
    float* dst = bp + jp * kc;
    if (!tb) {
        for (int64_t k = 0; k < kc; k++) {  // B stored K x N: each k is a contiguous run of NR columns
            const float* src = B + (pc + k) * ldb + jc + jp;
            if (nr == NR) std::memcpy(dst + k * NR, src, NR * sizeof(float));
            else {
                for (int j = 0; j < nr; j++) dst[k * NR + j] = src[j];
                for (int j = nr; j < NR; j++) dst[k * NR + j] = 0.0f;
            }
        }
    } else {
        for (int j = 0; j < nr; j++) {  // B stored N x K (a weight matrix): column j is a contiguous row
            const float* src = B + (jc + jp + j) * ldb + pc;
            for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = src[k];
        }
        for (int j = nr; j < NR; j++)
            for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
    }
}

// One thread's share: C[i0:i1, j0:j1] += alpha * op(A)[i0:i1, :] op(B)[:, j0:j1], with its own
// packing buffers. No sharing between threads, so no barriers inside the loops.
static void gemm_tile(bool ta, bool tb, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, float* ap,
                      float* bp) {
    for (int64_t jc = j0; jc < j1; jc += NC) {
        const int64_t nc = std::min<int64_t>(NC, j1 - jc);
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = std::min<int64_t>(KC, K - pc);
            for (int64_t p = 0; p < nc; p += NR) pack_b_panel(tb, B, ldb, pc, jc, p, nc, kc, bp);
            for (int64_t ic = i0; ic < i1; ic += MC_MAX) {
                const int64_t mc = std::min<int64_t>(MC_MAX, i1 - ic);
                pack_a(ta, A, lda, ic, pc, mc, kc, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const int n = (int)std::min<int64_t>(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        const int m = (int)std::min<int64_t>(MR, mc - ir);
                        micro_kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, alpha, m, n);
                    }
                }
            }
        }
    }
}

void gemm_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    // 1. C = beta * C (beta == 0 overwrites, so uninitialised memory is fine)
    for (int64_t i = 0; i < M; i++) {
        float* ci = C + i * ldc;
        if (beta == 0.0f) std::memset(ci, 0, N * sizeof(float));
        else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) ci[j] *= beta;
    }
    if (K <= 0 || alpha == 0.0f) return;

    // 2. Split C into one tile per thread along its longer side (in whole MR rows / NR columns), so
    //    each thread packs and computes alone. Small products run on one thread.
    int nthreads = omp_get_max_threads();
    if ((double)M * N * K < 2.0e5) nthreads = 1;
    const bool split_n = N >= M;
    const int64_t unit = split_n ? NR : MR, len = split_n ? N : M;
    const int64_t units = (len + unit - 1) / unit;
    if (units < nthreads) nthreads = (int)std::max<int64_t>(1, units);

#pragma omp parallel num_threads(nthreads)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const int64_t u0 = units * t / T, u1 = units * (t + 1) / T;  // this thread's units
        const int64_t lo = std::min(len, u0 * unit), hi = std::min(len, u1 * unit);
        const int64_t kc_max = std::min<int64_t>(KC, K);
        const int64_t cols = split_n ? hi - lo : N, rows = split_n ? M : hi - lo;
        const int64_t nc_max = std::min<int64_t>(NC, (cols + NR - 1) / NR * NR);
        const int64_t mc_max = std::min<int64_t>(MC_MAX, (rows + MR - 1) / MR * MR);
        float* ap = (float*)std::aligned_alloc(64, (mc_max * kc_max * sizeof(float) + 63) / 64 * 64 + 64);
        float* bp = (float*)std::aligned_alloc(64, (nc_max * kc_max * sizeof(float) + 63) / 64 * 64 + 64);
        if (hi > lo) {
            if (split_n) gemm_tile(ta, tb, 0, M, lo, hi, K, alpha, A, lda, B, ldb, C, ldc, ap, bp);
            else gemm_tile(ta, tb, lo, hi, 0, N, K, alpha, A, lda, B, ldb, C, ldc, ap, bp);
        }
        std::free(ap);
        std::free(bp);
    }
}

}  // namespace vsd
