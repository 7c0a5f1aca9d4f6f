// adamw.cpp — the AdamW update as a plain loop (the arithmetic order is the reference's: the step
// size and the bias corrections in double, each element in float).
#include "adamw.h"

#include <cmath>
#include <vector>

namespace vsd {

void adamw_update_cpu(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                      float wd, double bc1, double bc2_sqrt) {
    const float step_size = (float)(lr / bc1);
    const float decay = 1.0f - lr * wd;
    for (int64_t i = 0; i < n; i++) {
        p[i] *= decay;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        const float denom = (float)(std::sqrt(v[i]) / bc2_sqrt) + eps;
        p[i] -= step_size * m[i] / denom;
    }
}

void chunk_sqnorms_cpu(float* partial, const AdamWChunk* chunks, int64_t nchunks) {
    for (int64_t c = 0; c < nchunks; c++) {
        double s = 0.0;
        for (int64_t i = 0; i < chunks[c].n; i++) s += (double)chunks[c].g[i] * chunks[c].g[i];
        partial[c] = (float)s;
    }
}

void clip_coefficient_cpu(float* out, const float* partial, int64_t nchunks, float max_norm, const float* also, float* row) {
    double s = 0.0;
    for (int64_t c = 0; c < nchunks; c++) s += partial[c];
    const float norm = (float)std::sqrt(s), coef = max_norm / (norm + 1e-6f), loss = also ? *also : 0.0f;
    const bool skip = !std::isfinite(norm) || !std::isfinite(loss);
    out[0] = norm;
    out[1] = skip ? -1.0f : (coef < 1.0f ? coef : 1.0f);  // (an infinite max_norm: 1, no clipping)
    out[2] = loss;
    out[3] = skip ? 1.0f : 0.0f;
    if (skip) out[4] += 1.0f;
    if (row) row[0] = loss, row[1] = norm, row[2] = out[3];
}

void adamw_chunks_cpu(const AdamWChunk* chunks, int64_t nchunks, const AdamWHyper& h, const float* coef,
                      const float* skipped) {
    if (*coef < 0.0f) return;  // a skipped step
    for (int64_t c = 0; c < nchunks; c++) {
        const AdamWChunk& k = chunks[c];
        const int64_t t = k.t0 + h.since - (skipped ? (int64_t)*skipped : 0);
        std::vector<float> g(k.g, k.g + k.n);
        for (float& x : g) x *= *coef;  // the clipped gradient
        adamw_update_cpu(k.p, g.data(), k.m, k.v, k.n, h.lr[k.group], h.b1, h.b2, h.eps, h.wd[k.group],
                         adamw_bc1(h.b1, t), adamw_bc2_sqrt(h.b2, t));
    }
}

void zero_chunks_cpu(const AdamWChunk* chunks, int64_t nchunks) {
    for (int64_t c = 0; c < nchunks; c++)
        for (int64_t i = 0; i < chunks[c].n; i++) chunks[c].g[i] = 0.0f;
}

}  // namespace vsd
