// patchify.h — cut images into non-overlapping square patches, one row per patch (CPU reference;
// CUDA: patchify.cu). With it a ViT's patch embedding (a convolution whose stride equals its
// kernel, as CLIP's conv1) is one GEMM: patchify(x, p) @ W^T with W (width, C*p*p).
//
//   x (B, C, H, W) -> y (B, (H/p) * (W/p), C*p*p)
//   y[b, gy * (W/p) + gx, (c * p + ky) * p + kx] = x[b, c, gy * p + ky, gx * p + kx]
// Patches go in raster order; within a patch channel-major, as a convolution weight (out, C, p, p)
// flattens. Every input element lands in exactly one output element, so the backward is the same
// map read the other way round (no two threads add to one address).
#pragma once
#include <cstdint>

#include "launch.h"

namespace vsd {

void patchify_forward_cpu(float* y, const float* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p);
void patchify_backward_cpu(float* dx, const float* dy, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p);  // dx +=

VSD_LAUNCHERS(
    void patchify_forward(float* y, const float* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p);
    void patchify_backward(float* dx, const float* dy, int64_t B, int64_t C, int64_t H, int64_t W, int64_t p);
)

// The flat index into y of input element (b, c, row, col) (shared by both versions).
VSD_HD int64_t patch_index(int64_t b, int64_t c, int64_t row, int64_t col, int64_t C, int64_t H, int64_t W,
                                  int64_t p) {
    const int64_t gw = W / p, n = (H / p) * gw, d = C * p * p;
    const int64_t patch = (row / p) * gw + col / p, within = (c * p + row % p) * p + col % p;
    return (b * n + patch) * d + within;
}

}  // namespace vsd
