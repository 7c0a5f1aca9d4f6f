// launch.h — how an op reaches the CUDA version of its kernel, with no central list to edit.
//
// Every kernels/<op>.cu is compiled twice (kernels/common.cuh): by nvcc into namespace vsd::cuda
// (CUDA builds, for a real GPU), and by g++ with the emulator header into vsd::sim (every build:
// the CUDA-on-CPU emulator that CI runs). So each launcher exists under one name in two namespaces.
//
//   declare, in the op's kernel header (kernels/softmax.h), once for both builds:
//       VSD_LAUNCHERS(
//           void softmax_forward(float* y, const float* x, ..., int version);
//       )
//   define, in kernels/softmax.cu, inside `namespace vsd { namespace VSD_KNS {`:
//       void softmax_forward(float* y, const float* x, ..., int version) { VSD_LAUNCH(...); }
//   call, from the op (src/ops/softmax.cpp), on the backend of its tensors:
//       VSD_RUN(x.backend(), softmax_forward)(y.data(), x.data(), ...);
//
// VSD_RUN picks vsd::cuda::<name> when the backend is the GPU, vsd::sim::<name> for the emulator.
// Adding a kernel therefore touches only its own files.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../src/core/tensor.h"  // struct Backend

namespace vsd {
// What the device was asked to do, counted for the step profiler (tools/step_profile.cpp): every
// kernel launch (on the GPU, or in the emulator) and every cuBLAS call. Copies, memsets and
// allocations are counted by the memory pool (PoolStats, kernels/memory_pool.h).
struct DeviceCounters {
    uint64_t launches = 0, blas = 0;
    // when set (step_profile --by_kernel), every launch is also counted under its kernel's name
    void (*by_name)(const char* kernel) = nullptr;
};
DeviceCounters& device_counters();
// one kernel launch, counted (and named, when the profiler asks)
inline void count_launch(const char* kernel) {
    DeviceCounters& c = device_counters();
    c.launches++;
    if (c.by_name) c.by_name(kernel);
}
// one cuBLAS call, likewise
inline void count_blas(const char* call) {
    DeviceCounters& c = device_counters();
    c.blas++;
    if (c.by_name) c.by_name(call);
}
}  // namespace vsd

// A formula written once for the CPU reference and the kernels (e.g. kernels/elementwise_ops.h): VSD_HD
#include "../src/core/host_device.h"

#ifdef USE_CUDA
#define VSD_LAUNCHERS(...)       \
    namespace sim {              \
    __VA_ARGS__                  \
    }                            \
    namespace cuda {             \
    __VA_ARGS__                  \
    }
#define VSD_RUN(backend, name) ((backend).gpu ? &::vsd::cuda::name : &::vsd::sim::name)
#else
#define VSD_LAUNCHERS(...) \
    namespace sim {        \
    __VA_ARGS__            \
    }
#define VSD_RUN(backend, name) (&::vsd::sim::name)
#endif
