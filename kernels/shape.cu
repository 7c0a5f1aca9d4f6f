/*
Slabs and permutes on the GPU.                        CPU reference: kernels/shape.cpp

What they compute
    slab_copy   rows [start, start+len) of the middle axis of (outer, n, inner): narrow and concat
                (and their backwards, with accumulate)
    permute     out dim k = in dim perm[k] (its backward: the inverse permutation, with accumulate)

Version
    1  the grid-stride loop of common.cuh, one thread per output element (a data-movement kernel).
*/
#include "common.cuh"
#include "shape.h"

namespace vsd {
namespace VSD_KNS {

__global__ void slab_copy_kernel(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n,
                                 int64_t src_start, int64_t len, int64_t outer, int64_t inner, bool accumulate) {
    VSD_GRID_STRIDE(t, outer * len * inner) {  // (reference: slab_copy_cpu)
        const int64_t o = t / (len * inner), k = (t / inner) % len, i = t % inner;
        const float v = src[(o * src_n + src_start + k) * inner + i];
        float* d = &dst[(o * dst_n + dst_start + k) * inner + i];
        if (accumulate) *d += v;
        else *d = v;
    }
}

struct Perm4 { int64_t os[4], st[4]; };

__global__ void permute_kernel(float* out, const float* in, Perm4 p, int64_t n, bool accumulate) {
    VSD_GRID_STRIDE(o, n) {  // (reference: permute_cpu) output index -> input offset through the permuted strides
        const int64_t j3 = o % p.os[3], j2 = (o / p.os[3]) % p.os[2], j1 = (o / (p.os[3] * p.os[2])) % p.os[1];
        const int64_t j0 = o / (p.os[3] * p.os[2] * p.os[1]);
        const float v = in[j0 * p.st[0] + j1 * p.st[1] + j2 * p.st[2] + j3 * p.st[3]];
        if (accumulate) out[o] += v;
        else out[o] = v;
    }
}

void slab_copy(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start, int64_t len,
               int64_t outer, int64_t inner, bool accumulate) {
    const int64_t n = outer * len * inner;
    if (n) VSD_LAUNCH(slab_copy_kernel, grid1d(n), 256, 0, dst, dst_n, dst_start, src, src_n, src_start, len, outer, inner, accumulate);
}

void permute(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate) {
    Perm4 p;
    int64_t stride[4];
    stride[3] = 1;
    for (int d = 2; d >= 0; d--) stride[d] = stride[d + 1] * in_shape[d + 1];
    for (int k = 0; k < 4; k++) { p.os[k] = in_shape[perm[k]]; p.st[k] = stride[perm[k]]; }
    const int64_t n = p.os[0] * p.os[1] * p.os[2] * p.os[3];
    if (n) VSD_LAUNCH(permute_kernel, grid1d(n), 256, 0, out, in, p, n, accumulate);
}

}  // namespace VSD_KNS
}  // namespace vsd
