// gemm_avx2.cpp — the blocked GEMM (kernels/gemm_blocked.inc) for AVX2 + FMA: 8-float vectors, a 6 x 16 register tile.
// Compiled with its own instruction-set flags (Makefile: GEMM_ISA_FLAGS); kernels/gemm.cpp calls it
// only when the CPU has them.
#define VSD_VW 8
#define VSD_MR 6
#define VSD_GEMM_NS gemm_avx2
// blocking measured on this kernel (make bench, 2 threads, against OpenBLAS's Haswell kernels): a
// deeper K block and a shorter A block than the default 256 / 144 gave ~15% on (128*36) x 2048 -> 1024
#define VSD_KC 512
#define VSD_MC 96
#include "gemm_blocked.inc"
