// many.cpp — CPU reference of zero_many and copy_many (many.h): plain loops.
#include "many.h"

namespace vsd {

void zero_many_cpu(float* const* ptr, const int64_t* n, int count) {
    for (int b = 0; b < count; b++)
        for (int64_t i = 0; i < n[b]; i++) ptr[b][i] = 0.0f;
}

void copy_many_cpu(const float* flag, void* const* dst, const void* const* src, const int64_t* words, int count) {
    if (flag && *flag == 0.0f) return;
    for (int b = 0; b < count; b++)
        for (int64_t i = 0; i < words[b]; i++) ((uint32_t*)dst[b])[i] = ((const uint32_t*)src[b])[i];
}

}  // namespace vsd
