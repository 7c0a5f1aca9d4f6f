// device.cpp — the CPU-only build's answer to "is there a GPU?": no. (Device tensors can still
// be made in the CUDA emulator: backend.h.) The CUDA build compiles src/core/device.cu instead.
#include "tensor.h"

namespace vsd {

bool cuda_available() { return false; }

}  // namespace vsd
