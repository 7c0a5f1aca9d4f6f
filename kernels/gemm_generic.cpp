// gemm_generic.cpp — the blocked GEMM (kernels/gemm_blocked.inc) for any CPU: 4-float vectors, a 4 x 8 register tile.
// Compiled with its own instruction-set flags (Makefile: GEMM_ISA_FLAGS); kernels/gemm.cpp calls it
// only when the CPU has them.
#define VSD_VW 4
#define VSD_MR 4
#define VSD_GEMM_NS gemm_generic
#include "gemm_blocked.inc"
