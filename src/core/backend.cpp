// backend.cpp — the kernel tables (see backend.h).
#include "backend.h"

#include "../../kernels/cudnn.h"
#include "tensor.h"

namespace vsd {

bool cuda_available();  // device.cpp / device.cu

namespace {
// one table per build of the kernels: every name of VSD_KERNEL_NAMES from namespace `ns`
#define VSD_MAKE_TABLE(fn_name, ns, label)       \
    KernelTable fn_name() {                      \
        KernelTable t;                           \
        t.name = label;                          \
        VSD_KERNEL_NAMES(VSD_FILL_##ns)          \
        return t;                                \
    }
#define VSD_FILL_sim(fn) t.fn = &sim::fn;
VSD_MAKE_TABLE(make_sim, sim, "emulator")
#ifdef USE_CUDA
#define VSD_FILL_cuda(fn) t.fn = &cuda::fn;
VSD_MAKE_TABLE(make_cuda, cuda, "cuda")
#endif
bool g_emulated = false;
}  // namespace

void use_emulated_device(bool on) { g_emulated = on; }
bool emulated_device() { return g_emulated; }
bool device_available() { return g_emulated || cuda_available(); }

void check_device_name(const std::string& name) {
    ENSURE(name == "cpu" || name == "cuda" || name == "emulator", "--device must be cpu, cuda or emulator, got '%s'",
           name.c_str());
}

Device select_device(const std::string& name, int cudnn, int tf32) {
    check_device_name(name);
    Device dev = Device::CPU;
    if (name != "cpu") {
        if (name == "emulator") use_emulated_device(true);  // every kernel in the CUDA emulator: slow, for learning and tests
        ENSURE_HINT(device_available(), "use --device cpu, or a CUDA build (nvcc on PATH) on a machine with a GPU",
                    "--device cuda: no GPU is available");
        dev = Device::CUDA;
    }
    select_cudnn(cudnn, dev);
    select_tf32(tf32, dev);
    return dev;
}

namespace {
bool g_cudnn = false;
}
void use_cudnn(bool on) { g_cudnn = on; }
bool cudnn_enabled() { return g_cudnn && !g_emulated; }

void select_cudnn(int flag, Device dev) {
    ENSURE(flag == 0 || flag == 1, "--cudnn must be 0 or 1, got %d", flag);
    if (flag) {
        ENSURE_HINT(dev == Device::CUDA && !g_emulated, "cuDNN runs on a GPU only: add --device cuda (the emulator and "
                    "the CPU use our own kernels), or drop --cudnn", "--cudnn 1 needs --device cuda");
        std::string why;
        ENSURE_HINT(cudnn::available(&why), "use --cudnn 0 (our own kernels)", "--cudnn 1: cuDNN cannot run: %s",
                    why.c_str());
    }
    use_cudnn(flag == 1);
}

void select_tf32(int flag, Device dev) {
    ENSURE(flag == 0 || flag == 1, "--tf32 must be 0 or 1, got %d", flag);
    ENSURE_HINT(!flag || dev == Device::CUDA, "TF32 is a GPU tensor-core format: add --device cuda (or emulator), or "
                "drop --tf32", "--tf32 1 needs a device");
    if (dev != Device::CUDA) return;
    dk().gemm_set_tf32(flag == 1);
    cudnn::set_tf32(flag == 1);
}

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
