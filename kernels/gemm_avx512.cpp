// gemm_avx512.cpp — the blocked GEMM (kernels/gemm_blocked.inc) for AVX-512: 16-float vectors, an 8 x 32 register tile.
// Compiled with its own instruction-set flags (Makefile: GEMM_ISA_FLAGS); kernels/gemm.cpp calls it
// only when the CPU has them.
#define VSD_VW 16
#define VSD_MR 8
#define VSD_GEMM_NS gemm_avx512
#include "gemm_blocked.inc"
