// bf16.h — bfloat16, the 16-bit float of --precision bf16 and of BF16 weight files: FP32's sign and
// 8 exponent bits, 7 of its 23 mantissa bits (the top half of an FP32). Used by the device GEMM's
// conversion kernel (kernels/gemm.cu), its emulator and tests, and the safetensors reader.
//
// FP32 -> BF16 rounds to nearest, ties to even (as the GPU's cvt.rn.bf16.f32 and PyTorch's
// .to(torch.bfloat16)): add 0x7FFF plus the lowest kept bit, then drop the low 16 bits. A carry may
// run into the exponent (the right answer: a value that rounds up past the largest BF16 becomes
// infinity). NaN keeps its sign and top bits and stays a NaN (the quiet bit is set).
#pragma once
#include <cstdint>
#include <cstring>

#include "host_device.h"

namespace vsd {

VSD_HD uint32_t float_bits(float x) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(x);
#else
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return u;
#endif
}
VSD_HD uint16_t bf16_from_float(float x) {
    const uint32_t u = float_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
VSD_HD float float_from_bf16(uint16_t h) {  // exact: the 16 bits are the top half of an FP32
    const uint32_t u = (uint32_t)h << 16;
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float x;
    std::memcpy(&x, &u, 4);
    return x;
#endif
}
VSD_HD float bf16_round(float x) { return float_from_bf16(bf16_from_float(x)); }

}  // namespace vsd
