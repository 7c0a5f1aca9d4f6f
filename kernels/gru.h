// gru.h — one direction of a GRU layer over a padded batch of variable-length sequences (CPU).
//
// B batch, T padded length, I input size, H hidden size. PyTorch's layout and equations:
//   gates g = [r; z; n] stacked in w_ih (3H, I), w_hh (3H, H), b_ih (3H), b_hh (3H)
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h                         h_0 = 0
// Sample b runs exactly len[b] steps (a packed sequence): forward direction positions 0..len-1,
// reverse direction len-1..0. Outputs at padded positions are 0.
#pragma once
#include <cstdint>
#include <vector>

#include "launch.h"

namespace vsd {

struct GruCache {          // what the backward pass needs, filled by the forward pass
    std::vector<float> gx; // (B, T, 3H) input projections x W_ih^T + b_ih, per position
    std::vector<float> r, z, n, hn;  // (B, T, H) gates and W_hn h + b_hn, per position
    std::vector<float> hprev;        // (B, T, H) the state each position started from
};

// y: (B, T, H) outputs (0 at padding); x: (B, T, I); len: (B,)
void gru_forward_cpu(float* y, GruCache& cache, const float* x, const int64_t* len, const float* w_ih,
                     const float* w_hh, const float* b_ih, const float* b_hh, int64_t B, int64_t T, int64_t I,
                     int64_t H, bool reverse);

// Backpropagation through time. dy: (B, T, H). Accumulates into dx, dw_ih, dw_hh, db_ih, db_hh
// (any may be null).
void gru_backward_cpu(float* dx, float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, const float* dy,
                      const GruCache& cache, const float* x, const int64_t* len, const float* w_ih, const float* w_hh,
                      int64_t B, int64_t T, int64_t I, int64_t H, bool reverse);

// The position sample b (length len) is at in step s, or -1 once it has finished: s in the forward
// direction, len - 1 - s in reverse. Shared by the CPU loop and the kernels.
VSD_HD int64_t gru_position(int64_t s, int64_t len, bool reverse) { return s >= len ? -1 : (reverse ? len - 1 - s : s); }

// Whether direction d of `dirs` walks in reverse: with two, direction 1; with one, the caller says.
VSD_HD bool gru_reverse(int64_t d, int dirs, bool reverse) { return dirs == 2 ? d == 1 : reverse; }

// The recurrent weights of each direction (direction d's are w_hh[d], (3H, H), and b_hh[d], (3H,))
struct GruRecurrent {
    const float* w_hh[2] = {nullptr, nullptr};
    const float* b_hh[2] = {nullptr, nullptr};
};

// Version 2 (one launch per walk) holds a block of 3H threads per sample
constexpr int64_t kGruRecurrenceMaxHidden = 64;

// the CUDA versions (kernels/gru.cu). Every pointer is device memory; len is (B,). dirs is 1 (one
// direction, reverse as given) or 2 (forward and reverse at once); every buffer then stacks the
// directions: y, r, z, n, hn, hprev (dirs, B, T, H); gx, dgx, dghs (dirs, B, T, 3H); h, dh
// (dirs, B, H); gh, dgh (dirs, B, 3H). Every output is written in full, zeros at padding.
VSD_LAUNCHERS(
    // Version 1, one time step s, for every sample active at it: given gx (the input projections of
    // every position, with b_ih) and gh = h W_hh^T, the r, z, n gates and h' (saved for the
    // backward, with the state h_prev the step started from); and the backward of one step, which
    // writes dgx and dghs per position, dgh per sample (0 when inactive) and sets dh = g z (the
    // caller then adds dgh W_hh with a GEMM). A sample that has finished by step s zeroes its
    // (padded) position s, so after all T steps every padded position is zero.
    void gru_gates_forward(float* y, float* h, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                           const float* gh, const GruRecurrent& rw, const int64_t* len, int64_t s, bool reverse,
                           int dirs, int64_t B, int64_t T, int64_t H);
    void gru_gates_backward(float* dgx, float* dgh, float* dghs, float* dh, const float* dy, const float* r,
                            const float* z, const float* n, const float* hn, const float* hprev, const int64_t* len,
                            int64_t s, bool reverse, int dirs, int64_t B, int64_t T, int64_t H);
    // Version 2, the whole walk of every sample in one launch (H <= kGruRecurrenceMaxHidden).
    void gru_recurrence_forward(float* y, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                                const GruRecurrent& rw, const int64_t* len, bool reverse, int dirs, int64_t B,
                                int64_t T, int64_t H);
    void gru_recurrence_backward(float* dgx, float* dghs, const float* dy, const float* r, const float* z,
                                 const float* n, const float* hn, const float* hprev, const GruRecurrent& rw,
                                 const int64_t* len, bool reverse, int dirs, int64_t B, int64_t T, int64_t H);
)

}  // namespace vsd
