// backend.cpp — the device backends: the GPU and the emulator, and which one runs (see backend.h).
#include "backend.h"

#include <cstdio>

#include "cudnn.h"
#include "elementwise.h"
#include "gemm.h"
#include "memory_pool.h"
#include "many.h"
#ifdef USE_CUDA
#include <cuda_runtime.h>
#endif

namespace vsd_sim {
void set_count_only(bool on);  // kernels/sim/cuda_sim.cpp
}

namespace vsd {

void emulator_count_only(bool on) { vsd_sim::set_count_only(on); }

// cuda_available() asks the driver once. On a machine without a GPU (CI, the development boxes)
// cudaGetDeviceCount fails or returns 0: we print ONE line saying the CUDA build runs on the CPU.
// Nothing here crashes without a GPU.
bool cuda_available() {
#ifdef USE_CUDA
    static int state = -1;  // -1 unknown, 0 no GPU, 1 GPU
    if (state < 0) {
        int n = 0;
        cudaError_t err = cudaGetDeviceCount(&n);
        state = (err == cudaSuccess && n > 0) ? 1 : 0;
        if (!state) {
            (void)cudaGetLastError();  // clear the sticky error
            std::fprintf(stderr, "note: CUDA build, but no usable GPU (%s); running on the CPU\n",
                         err == cudaSuccess ? "0 devices" : cudaGetErrorString(err));
        }
    }
    return state == 1;
#else
    return false;
#endif
}

namespace {
// dst[0:n] += src[0:n] with a backend's own kernels (the tape's gradient accumulation)
template <bool Gpu>
void accumulate(float* dst, const float* src, int64_t n) {
    if (n <= 0) return;
    const Broadcast flat = {{1, 1, 1, n}, {0, 0, 0, 1}, {0, 0, 0, 1}};
#ifdef USE_CUDA
    if (Gpu) return cuda::binary_forward(Binary::Add, dst, dst, src, flat);
#endif
    sim::binary_forward(Binary::Add, dst, dst, src, flat);
}
// one backend per build of the kernels: its memory functions from namespace `ns`
#define VSD_MAKE_BACKEND(label, gpu, ns)                                                                \
    Backend{label, gpu, &ns::pool_alloc, &ns::pool_free, &ns::copy_to_device, &ns::copy_to_host,      \
            &ns::copy_on_device, &ns::device_zero, &accumulate<gpu>, &ns::zero_many}
bool g_emulated = false;
}  // namespace

DeviceCounters& device_counters() {
    static DeviceCounters c;
    return c;
}

void use_emulated_device(bool on) { g_emulated = on; }
bool emulated_device() { return g_emulated; }
bool device_available() { return g_emulated || cuda_available(); }

void check_device_name(const std::string& name) {
    ENSURE(name == "cpu" || name == "cuda" || name == "emulator", "--device must be cpu, cuda or emulator, got '%s'",
           name.c_str());
}

Device select_device(const std::string& name, int cudnn, int tf32, const std::string& precision) {
    check_device_name(name);
    Device dev = Device::CPU;
    if (name != "cpu") {
        if (name == "emulator") use_emulated_device(true);  // every kernel in the CUDA emulator: slow, for learning and tests
        ENSURE_HINT(device_available(), "use --device cpu, or a CUDA build (nvcc on PATH) on a machine with a GPU",
                    "--device cuda: no GPU is available");
        dev = Device::CUDA;
    }
    select_cudnn(cudnn, dev);
    select_precision(precision, tf32, dev);
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

void select_precision(const std::string& precision, int tf32, Device dev) {
    ENSURE(tf32 == 0 || tf32 == 1, "--tf32 must be 0 or 1, got %d", tf32);
    ENSURE_HINT(precision == "fp32" || precision == "tf32" || precision == "bf16", "use fp32, tf32 or bf16",
                "--precision must be fp32, tf32 or bf16, got '%s'", precision.c_str());
    ENSURE_HINT(!(tf32 && precision == "bf16"), "--tf32 1 is the older spelling of --precision tf32; keep one of "
                "the two", "--tf32 1 and --precision bf16 ask for two different precisions");
    const std::string p = tf32 ? "tf32" : precision;
    const std::string what = tf32 ? "--tf32 1" : "--precision " + p;
    ENSURE_HINT(p == "fp32" || dev == Device::CUDA, "TF32 and BF16 are GPU tensor-core formats: add --device cuda (or "
                "emulator), or drop the flag", "%s needs a device", what.c_str());
    if (dev != Device::CUDA) return;
    if (p == "bf16") VSD_RUN(dk(), gemm_set_bf16)(true);
    else VSD_RUN(dk(), gemm_set_tf32)(p == "tf32");
    cudnn::set_tf32(p == "tf32");  // cuDNN's GRU stays FP32 under bf16
}
void select_tf32(int flag, Device dev) { select_precision("fp32", flag, dev); }

const Backend& dk() {
    static const Backend emulator = VSD_MAKE_BACKEND("emulator", false, sim);
    if (g_emulated) return emulator;
#ifdef USE_CUDA
    static const Backend gpu = VSD_MAKE_BACKEND("cuda", true, cuda);
    if (cuda_available()) return gpu;
#endif
    FATAL("a device tensor was requested, but there is no GPU (and the emulator is off). HINT: keep tensors on the "
          "CPU, or run on a machine with a GPU and a CUDA build");
}

namespace {
int g_kernel_version = 0;  // 0: every op runs its default version
}
int kernel_version(int default_version) { return g_kernel_version ? g_kernel_version : default_version; }
UseKernelVersion::UseKernelVersion(int v) : prev(g_kernel_version) { g_kernel_version = v; }
UseKernelVersion::~UseKernelVersion() { g_kernel_version = prev; }

// tensors ask dk() for the backend of new device tensors (src/core/tensor.h: active_backend)
static const bool g_installed = (set_backend_source(&dk), true);

}  // namespace vsd
