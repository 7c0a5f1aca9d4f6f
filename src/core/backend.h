// backend.h — which build of kernels/*.cu runs the ops of tensors on Device::CUDA.
//
//   the GPU:       vsd::cuda, the nvcc build (a CUDA build on a machine with a GPU)
//   the emulator:  vsd::sim, the same kernel sources compiled as C++ and run by the CUDA-on-CPU
//                  emulator (kernels/sim). "Device" memory is then host memory. Tests switch it on
//                  with use_emulated_device(true), so CI runs every op's device path without a GPU.
//
// Ops call the active table through dk():  dk().gemm(...), dk().softmax_forward(...), ...
// Each Storage remembers the table that allocated it, so switching never frees into the wrong pool.
#pragma once
#include "../../kernels/cuda_kernels.h"
#include "tensor.h"

namespace vsd {

struct KernelTable {
    const char* name;  // "cuda" or "emulator"
#define VSD_TABLE_ENTRY(fn) decltype(&sim::fn) fn;
    VSD_KERNEL_NAMES(VSD_TABLE_ENTRY)
#undef VSD_TABLE_ENTRY
};

// dst[0:n] += src[0:n] with the table's kernels (gradient accumulation on the device)
inline void dev_accumulate(const KernelTable& k, float* dst, const float* src, int64_t n) {
    if (n <= 0) return;
    const Broadcast flat = {{1, 1, 1, n}, {0, 0, 0, 1}, {0, 0, 0, 1}};
    k.binary_forward(Binary::Add, dst, dst, src, flat);
}

// The table for new device tensors: the emulator when switched on, else the GPU; an error (with a
// hint) when neither is available.
const KernelTable& dk();
// Is there a device for Device::CUDA tensors (a GPU, or the emulator switched on)?
bool device_available();
void use_emulated_device(bool on);
bool emulated_device();

// The --device flag of the programs: "cpu", "cuda" (the GPU) or "emulator" (switches the emulator
// on). check_device_name only validates; select_device also checks that the device exists, and
// applies the programs' --cudnn and --tf32 flags to it (select_cudnn, select_tf32 below). All fail
// with one clear error.
void check_device_name(const std::string& name);
Device select_device(const std::string& name, int cudnn = 0, int tf32 = 0);

// --cudnn 1: hand the GRU and BERT's inference attention to cuDNN (kernels/cudnn.h) when their
// tensors are on a real GPU. Off by default: our kernels are the reference. select_cudnn validates
// the flag against the device (one clear error: cuDNN needs a CUDA build and a GPU, and the
// emulator cannot run it) and switches it on; cudnn_enabled() is what the layers ask.
void select_cudnn(int flag, Device dev);
void use_cudnn(bool on);
bool cudnn_enabled();

// --tf32 1: cuBLAS (and cuDNN) may run FP32 GEMMs on TF32 tensor cores (kernels/gemm.cu). Device
// runs only (the emulator rounds GEMM inputs to TF32 like the hardware); on the CPU an error.
void select_tf32(int flag, Device dev);

// RAII for tests: the emulated device for one scope
struct EmulatedDevice {
    EmulatedDevice() : prev(emulated_device()) { use_emulated_device(true); }
    ~EmulatedDevice() { use_emulated_device(prev); }
    bool prev;
};

}  // namespace vsd
