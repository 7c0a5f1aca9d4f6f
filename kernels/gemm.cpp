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
// within the 32 zmm registers; with AVX2 (8 floats) it is 6 x 16 in 12 of the 16 ymm registers.
// Packing makes every load in the micro-kernel unit-stride and handles transposes once, so the
// micro-kernel never sees a stride. We write it once with GCC vector extensions (`vfloat`,
// kernels/gemm_blocked.inc) and compile it three times, with AVX-512, AVX2+FMA and no vector flags
// (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp); gemm_cpu picks the widest the CPU has, at
// run time, so one binary is fast on every x86 (VSD_GEMM=avx512|avx2|generic overrides the choice).
//
// Napkin math (this machine: 2 Zen cores): peak ~ 2 cores x 2 FMA/cycle x 16 lanes x 2 flop x ~3 GHz
// ~ 200-400 GFLOP/s depending on how the core splits 512-bit ops; `make bench` measures us against
// torch's BLAS on the same shapes.
#include "gemm.h"

#include <cstdlib>
#include <cstring>
#include <string>

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
// Version 2: blocked + packed + register-tiled (kernels/gemm_blocked.inc), one build per instruction set.
#define VSD_BLOCKED_DECL(ns)                                                                                     \
    namespace ns {                                                                                               \
    void gemm_blocked(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, \
                      const float* B, int64_t ldb, float* C, int64_t ldc);                                       \
    int64_t packed_b_size(int64_t K, int64_t N);                                                                 \
    void pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb, float* out);                         \
    void gemm_blocked_packed(bool ta, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,  \
                             const float* packed, float* C, int64_t ldc);                                        \
    }
VSD_BLOCKED_DECL(gemm_avx512)
VSD_BLOCKED_DECL(gemm_avx2)
VSD_BLOCKED_DECL(gemm_generic)

namespace {
using BlockedFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                           float*, int64_t);
struct BlockedKernel {
    BlockedFn fn;
    const char* name;
    int64_t (*packed_size)(int64_t, int64_t);
    void (*pack)(bool, int64_t, int64_t, const float*, int64_t, float*);
    void (*packed)(bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, float*, int64_t);
};
#define VSD_KERNEL(ns, name) {&ns::gemm_blocked, name, &ns::packed_b_size, &ns::pack_b, &ns::gemm_blocked_packed}
const BlockedKernel avx512 = VSD_KERNEL(gemm_avx512, "AVX-512, 8x32 register tile"),
                    avx2 = VSD_KERNEL(gemm_avx2, "AVX2+FMA, 6x16 register tile"),
                    generic = VSD_KERNEL(gemm_generic, "generic, 4x8 register tile");
#undef VSD_KERNEL
// what this CPU can run
bool cpu_has(const std::string& isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (isa == "avx512") return __builtin_cpu_supports("avx512f");
    if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == "generic";
}
// The widest kernel this CPU runs, or the one VSD_GEMM names (chosen once)
const BlockedKernel& blocked_kernel() {
    static const BlockedKernel k = [] {
        const bool has512 = cpu_has("avx512"), has2 = cpu_has("avx2");
        const char* env = std::getenv("VSD_GEMM");
        const std::string want = env ? env : "";
        if (want == "avx512") {
            ENSURE(has512, "VSD_GEMM=avx512: this CPU has no AVX-512. HINT: VSD_GEMM=avx2 or generic, or unset it");
            return avx512;
        }
        if (want == "avx2") {
            ENSURE(has2, "VSD_GEMM=avx2: this CPU has no AVX2+FMA. HINT: VSD_GEMM=generic, or unset it");
            return avx2;
        }
        if (want == "generic") return generic;
        ENSURE(want.empty(), "VSD_GEMM=%s: expected avx512, avx2 or generic (or unset: the widest the CPU has)", want.c_str());
        return has512 ? avx512 : has2 ? avx2 : generic;
    }();
    return k;
}
}  // namespace

const char* gemm_cpu_config() { return blocked_kernel().name; }

bool gemm_blocked_cpu(const char* isa, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc) {
    const std::string s = isa;
    ENSURE(s == "avx512" || s == "avx2" || s == "generic", "gemm_blocked_cpu: unknown instruction set '%s'", isa);
    if (!cpu_has(s)) return false;
    if (M > 0 && N > 0 && K > 0) (s == "avx512" ? avx512 : s == "avx2" ? avx2 : generic).fn(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return true;
}

// C = beta * C (beta == 0 overwrites, so uninitialised memory is fine)
static void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        float* ci = C + i * ldc;
        if (beta == 0.0f) std::memset(ci, 0, N * sizeof(float));
        else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) ci[j] *= beta;
    }
}

void gemm_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    scale_c(M, N, beta, C, ldc);                                               // 1. C = beta C
    if (K <= 0 || alpha == 0.0f) return;
    blocked_kernel().fn(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);  // 2. C += alpha op(A) op(B), blocked
}

PackedB::PackedB(bool tb, int64_t K_, int64_t N_, const float* B, int64_t ldb) : K(K_), N(N_) {
    const BlockedKernel& k = blocked_kernel();
    kernel = &k;
    if (K > 0 && N > 0) {
        data.resize((size_t)k.packed_size(K, N));
        k.pack(tb, K, N, B, ldb, data.data());
    }
}

void gemm_packed_cpu(bool ta, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                     float* C, int64_t ldc) {
    if (M <= 0 || B.N <= 0) return;
    ENSURE(B.kernel == &blocked_kernel(), "gemm_packed_cpu: B was packed for another kernel");
    scale_c(M, B.N, beta, C, ldc);
    if (B.K <= 0 || alpha == 0.0f) return;
    blocked_kernel().packed(ta, M, B.N, B.K, alpha, A, lda, B.data.data(), C, ldc);
}

}  // namespace vsd
