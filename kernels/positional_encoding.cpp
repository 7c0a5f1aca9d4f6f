// positional_encoding.cpp — GPO's positional encoding as plain loops.
#include "positional_encoding.h"

#include <cmath>

namespace vsd {

void positional_encoding_cpu(float* pe, const int64_t* len, int64_t B, int64_t N, int64_t P) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < N; k++)
            for (int64_t j = 0; j < P / 2; j++) {
                float* o = pe + (b * N + k) * P + 2 * j;
                if (k >= len[b]) {  // padding
                    o[0] = o[1] = 0.0f;
                    continue;
                }
                const float w = std::exp((float)(2 * j) * -(std::log(10000.0f) / (float)P));
                o[0] = std::sin((float)k * w);
                o[1] = std::cos((float)k * w);
            }
}

}  // namespace vsd
