// device.cu — the CUDA build's device probe and raw allocation.
//
// cuda_available() asks the driver once. On a machine without a GPU (CI, the development boxes)
// cudaGetDeviceCount fails or returns 0: we print ONE line saying the CUDA build falls back to the
// CPU, and every tensor stays on the CPU. Nothing here crashes without a GPU.
#include <cuda_runtime.h>

#include <cstdio>

#include "../../kernels/common.cuh"  // VSD_CUDA_CHECK
#include "../../kernels/cuda_kernels.h"
#include "tensor.h"

namespace vsd {

bool cuda_available() {
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
}

}  // namespace vsd
