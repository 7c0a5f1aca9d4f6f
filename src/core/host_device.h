// host_device.h — VSD_HD: a formula written once for the CPU and the CUDA kernels (e.g.
// kernels/elementwise_ops.h, src/core/bf16.h). Under nvcc it is a __host__ __device__ inline
// function; in plain C++ (the CPU build and the emulator) an inline one.
#pragma once
#if defined(__CUDACC__)
#define VSD_HD __host__ __device__ inline
#else
#define VSD_HD inline
#endif
