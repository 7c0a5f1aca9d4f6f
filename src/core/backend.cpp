// backend.cpp — the kernel tables (see backend.h).
#include "backend.h"

#include "tensor.h"

namespace vsd {

bool cuda_available();  // device.cpp / device.cu

namespace {
KernelTable make_sim() {
    KernelTable t;
    t.name = "emulator";
#define VSD_FILL(fn) t.fn = &sim::fn;
    VSD_KERNEL_NAMES(VSD_FILL)
#undef VSD_FILL
    return t;
}
#ifdef USE_CUDA
KernelTable make_cuda() {
    KernelTable t;
    t.name = "cuda";
#define VSD_FILL(fn) t.fn = &cuda::fn;
    VSD_KERNEL_NAMES(VSD_FILL)
#undef VSD_FILL
    return t;
}
#endif
bool g_emulated = false;
}  // namespace

void use_emulated_device(bool on) { g_emulated = on; }
bool emulated_device() { return g_emulated; }
bool device_available() { return g_emulated || cuda_available(); }

const KernelTable& dk() {
    static const KernelTable sim_table = make_sim();
    if (g_emulated) return sim_table;
#ifdef USE_CUDA
    static const KernelTable cuda_table = make_cuda();
    if (cuda_available()) return cuda_table;
#endif
    FATAL("a device tensor was requested, but there is no GPU (and the emulator is off). HINT: keep tensors on the "
          "CPU, or run on a machine with a GPU and a CUDA build");
}

}  // namespace vsd
