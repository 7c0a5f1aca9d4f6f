// gemm_avx512.cpp — the blocked GEMM (kernels/gemm_blocked.inc) for AVX-512: 16-float vectors, an 8 x 32 register tile.
// Compiled with its own instruction-set flags (Makefile: GEMM_ISA_FLAGS); kernels/gemm.cpp calls it
// only when the CPU has them.
#define VSD_VW 16
#define VSD_MR 8
#define VSD_GEMM_NS gemm_avx512
// blocking: K blocks of 512 and A blocks of 96 rows, as the AVX2 kernel. Measured on a 2-core AVX-512
// EPYC (best of 5 runs, interleaved, 2 threads): 187-200 GFLOP/s on (128*36) x 2048 -> 1024 against
// 170-185 with the earlier 256 / 144 (fewer passes over C; the B panel streams from L2 well)
#define VSD_KC 512
#define VSD_MC 96
#include "gemm_blocked.inc"
