// zero_many.cpp — CPU reference of zero_many (zero_many.h): plain loops.
#include "zero_many.h"

namespace vsd {

void zero_many_cpu(float* const* ptr, const int64_t* n, int count) {
    for (int b = 0; b < count; b++)
        for (int64_t i = 0; i < n[b]; i++) ptr[b][i] = 0.0f;
}

}  // namespace vsd
