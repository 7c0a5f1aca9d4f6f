// device.cpp — the CPU-only build's answer to "is there a GPU?": no.
// The CUDA build compiles src/core/device.cu instead (Makefile), which asks the driver.
#include "tensor.h"

namespace vsd {

bool cuda_available() { return false; }

void* cuda_alloc_bytes(size_t) {
    FATAL("this build has no CUDA backend. HINT: install the CUDA toolkit (nvcc on PATH) and run `make clean all`");
}
void cuda_free_bytes(void*) {}

}  // namespace vsd
