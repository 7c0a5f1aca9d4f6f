// shape.cpp — slabs and permutes as plain loops. No arithmetic worth the name: what matters is which
// index goes where, so every loop says it in its comment.
#include "shape.h"


namespace vsd {

void slab_copy_cpu(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n, int64_t src_start,
                   int64_t len, int64_t outer, int64_t inner, bool accumulate) {
    for (int64_t o = 0; o < outer; o++) {
        // rows [start, start+len) of the middle axis are contiguous: len*inner floats
        float* d = dst + (o * dst_n + dst_start) * inner;
        const float* s = src + (o * src_n + src_start) * inner;
        if (accumulate)
            for (int64_t t = 0; t < len * inner; t++) d[t] += s[t];
        else
            std::copy(s, s + len * inner, d);
    }
}

void permute_cpu(float* out, const float* in, const int64_t in_shape[4], const int perm[4], bool accumulate) {
    // strides of the input (row-major), then the output walks its own index (j0..j3) where
    // output dim k has size in_shape[perm[k]] and steps through the input by in_stride[perm[k]].
    int64_t in_stride[4];
    in_stride[3] = 1;
    for (int d = 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * in_shape[d + 1];
    int64_t os[4], st[4];
    for (int k = 0; k < 4; k++) { os[k] = in_shape[perm[k]]; st[k] = in_stride[perm[k]]; }
    int64_t o = 0;
    for (int64_t j0 = 0; j0 < os[0]; j0++)
        for (int64_t j1 = 0; j1 < os[1]; j1++)
            for (int64_t j2 = 0; j2 < os[2]; j2++)
                for (int64_t j3 = 0; j3 < os[3]; j3++, o++) {
                    float v = in[j0 * st[0] + j1 * st[1] + j2 * st[2] + j3 * st[3]];
                    if (accumulate) out[o] += v;
                    else out[o] = v;
                }
}

}  // namespace vsd
