// backend.h — which build of kernels/*.cu runs the ops of tensors on Device::CUDA.
//
//   the GPU:       vsd::cuda, the nvcc build (a CUDA build on a machine with a GPU)
//   the emulator:  vsd::sim, the same kernel sources compiled as C++ and run by the CUDA-on-CPU
//                  emulator (kernels/sim). "Device" memory is then host memory. Tests switch it on
//                  with use_emulated_device(true), so CI runs every op's device path without a GPU.
//
// Ops reach a kernel of their tensors' backend with VSD_RUN (launch.h):
//     VSD_RUN(x.backend(), softmax_forward)(...)
// Each Storage remembers the backend that allocated it, so switching never frees into the wrong pool.
#pragma once
#include <string>

#include "launch.h"

namespace vsd {

// The backend for new device tensors (src/core/tensor.h: active_backend() asks this): the emulator
// when switched on, else the GPU; an error (with a hint) when neither is available.
const Backend& dk();
// Is the CUDA part built and is there a GPU? (false in CPU-only builds; asks the driver once)
bool cuda_available();
// Is there a device for Device::CUDA tensors (a GPU, or the emulator switched on)?
bool device_available();
void use_emulated_device(bool on);
// The emulator counts launches without running them (tools/step_profile's fast mode); results
// are then meaningless, only the counts (device_counters(), pool_stats()) are.
void emulator_count_only(bool on);
bool emulated_device();

// The --device flag of the programs: "cpu", "cuda" (the GPU) or "emulator" (switches the emulator
// on). check_device_name only validates; select_device also checks that the device exists, and
// applies the programs' --cudnn, --tf32 and --precision flags to it (select_cudnn,
// select_precision below). All fail with one clear error.
void check_device_name(const std::string& name);
Device select_device(const std::string& name, int cudnn = 0, int tf32 = 0, const std::string& precision = "fp32");

// --cudnn 1: hand the GRU and BERT's inference attention to cuDNN (kernels/cudnn.h) when their
// tensors are on a real GPU. Off by default: our kernels are the reference. select_cudnn validates
// the flag against the device (one clear error: cuDNN needs a CUDA build and a GPU, and the
// emulator cannot run it) and switches it on; cudnn_enabled() is what the layers ask.
void select_cudnn(int flag, Device dev);
void use_cudnn(bool on);
bool cudnn_enabled();

// --precision, what the device's cuBLAS GEMMs compute in (kernels/gemm.cu); device runs only (the
// emulator rounds like the hardware), an error on the CPU:
//   fp32  FP32 (the default; the reference's precision)
//   tf32  cuBLAS (and cuDNN) may use TF32 tensor cores: inputs rounded to 10 mantissa bits
//   bf16  mixed precision: GEMM inputs rounded to bfloat16, sums and outputs FP32, FP32 weights
// --tf32 1 is the older spelling of --precision tf32 (with --precision bf16: an error).
void select_precision(const std::string& precision, int tf32, Device dev);
void select_tf32(int flag, Device dev);  // select_precision("fp32", flag, dev)

// Kernel versions. A kernel file may keep a ladder of versions (kernels/softmax.cu: 1 a thread per
// row, 2 a warp per row, ...); ops run their best one, kernel_version(default). The generic op test
// (tests/ops/op_test.h) and the benches run the others with UseKernelVersion for one scope.
int kernel_version(int default_version);
struct UseKernelVersion {
    explicit UseKernelVersion(int v);
    ~UseKernelVersion();
    int prev;
};

// RAII for tests: the emulated device for one scope
struct EmulatedDevice {
    EmulatedDevice() : prev(emulated_device()) { use_emulated_device(true); }
    ~EmulatedDevice() { use_emulated_device(prev); }
    bool prev;
};
// RAII for tests of the device paths: the GPU when there is one, the emulator otherwise (CI)
struct TestDevice {
    TestDevice() : prev(emulated_device()) { use_emulated_device(!cuda_available()); }
    ~TestDevice() { use_emulated_device(prev); }
    bool prev;
};

}  // namespace vsd
