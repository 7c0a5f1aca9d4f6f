// patchify.cpp — images to patch rows as plain loops (kernels/patchify.h).
#include "patchify.h"

namespace vsd {

void patchify_forward_cpu(float* y, const float* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    // walk the input in memory order; each element goes to its one place in y
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < H; r++)
                for (int64_t q = 0; q < W; q++) y[patch_index(b, c, r, q, C, H, W, p)] = x[((b * C + c) * H + r) * W + q];
}

void patchify_backward_cpu(float* dx, const float* dy, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < H; r++)
                for (int64_t q = 0; q < W; q++) dx[((b * C + c) * H + r) * W + q] += dy[patch_index(b, c, r, q, C, H, W, p)];
}

}  // namespace vsd
