// adamw.h — the AdamW update and the global gradient norm (CPU references; CUDA: adamw.cu).
// Used by src/train/optim.cpp, which keeps the per-tensor step count t.
//
// Two shapes of the same update:
//   per tensor     adamw_update: one call (one launch) per parameter tensor; the CPU optimiser's path
//   every tensor   the optimiser's device path: the parameters are cut into chunks of at most a
//                  fixed number of elements, listed once in a device table (AdamWChunk), and one
//                  launch updates them all, a block per chunk. The gradient norm for clipping is two
//                  more launches over the same table (a partial sum per chunk, then one block adds
//                  the partials in a fixed order: deterministic), and its clip coefficient stays in
//                  device memory, where the update reads it. Three launches a step, whatever the
//                  model, instead of three per tensor (BERT-base has 200 tensors).
#pragma once
#include <cmath>
#include <cstdint>

#include "launch.h"

namespace vsd {

// With bc1 = 1 - b1^t and bc2_sqrt = sqrt(1 - b2^t) (computed in double by the caller):
//   p *= 1 - lr wd                                (decoupled weight decay, first)
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   p -= lr / bc1 * m / (sqrt(v) / bc2_sqrt + eps)
void adamw_update_cpu(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps,
                      float wd, double bc1, double bc2_sqrt);

// One chunk of one parameter tensor: elements [0, n) of p, g, m, v (pointers already offset).
struct AdamWChunk {
    float* p;
    float* g;
    float* m;
    float* v;
    int64_t n;
    int64_t t0;     // the tensor's update count before the table's first step
    int32_t group;  // its parameter group: the index into AdamWHyper's lr and wd
    int32_t unused = 0;
};
constexpr int kAdamWMaxGroups = 8;
struct AdamWHyper {
    float lr[kAdamWMaxGroups] = {}, wd[kAdamWMaxGroups] = {};
    float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    int64_t since = 1;  // steps since the table was made, this one included: a chunk's t = t0 + since
};
// The bias corrections of step t, in double as torch computes them; shared by both paths.
VSD_HD double adamw_bc1(float b1, int64_t t) { return 1.0 - pow((double)b1, (double)t); }
VSD_HD double adamw_bc2_sqrt(float b2, int64_t t) { return sqrt(1.0 - pow((double)b2, (double)t)); }

// partial[c] = sum of g^2 over chunk c
void chunk_sqnorms_cpu(float* partial, const AdamWChunk* chunks, int64_t nchunks);
// The step's scalars, in device memory, written by clip_coefficient and read by the update:
//   [0] the norm, sqrt(sum partial)
//   [1] the clip coefficient min(1, max_norm / (norm + 1e-6)) (torch.nn.utils.clip_grad_norm_), or
//       -1 when the norm or *also (the loss) is not finite: the update then skips the step, as
//       the reference skips a NaN loss, without the host having to look
//   [2] *also (0 without it)
//   [3] 1 when the step is skipped, else 0 (a condition for copy_many: BatchNorm's statistics)
//   [4] the steps skipped so far (the update's step counts leave them out: t = t0 + since - [4])
// row, when given: row[0] = the loss, row[1] = the norm, row[2] = skipped (a step's line of the
// trainer's history, read back on log steps)
constexpr int kStepScalars = 5;
void clip_coefficient_cpu(float* out, const float* partial, int64_t nchunks, float max_norm, const float* also, float* row);
// the update of every chunk, with the gradient scaled by *coef (no update when it is negative);
// skipped: null, or the count of skipped steps ([4] above)
void adamw_chunks_cpu(const AdamWChunk* chunks, int64_t nchunks, const AdamWHyper& h, const float* coef,
                      const float* skipped);
// g = 0 in every chunk (zero_grad in one launch)
void zero_chunks_cpu(const AdamWChunk* chunks, int64_t nchunks);

// the CUDA versions (kernels/adamw.cu)
VSD_LAUNCHERS(
    void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2,
                      float eps, float wd, float bc1, float bc2_sqrt);
    // chunks, partial, out, coef and also are device memory
    void chunk_sqnorms(float* partial, const AdamWChunk* chunks, int64_t nchunks);
    void clip_coefficient(float* out, const float* partial, int64_t nchunks, float max_norm, const float* also, float* row);
    void adamw_chunks(const AdamWChunk* chunks, int64_t nchunks, AdamWHyper h, const float* coef, const float* skipped);
    void zero_chunks(const AdamWChunk* chunks, int64_t nchunks);
)

}  // namespace vsd
