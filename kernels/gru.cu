/*
The GRU's gates on the GPU, one time step at a time.  CPU reference: the gate equations inside
gru_forward_cpu / gru_backward_cpu (kernels/gru.cpp)

What it computes
    gru gates   one time step's pointwise part: given gx (the input projections of this step's
                positions) and gh = h W_hh^T, the r, z, n gates and h'; and the backward of one step
                (the GEMMs around them use gemm; src/ops/gru.cpp runs the loop over time)

Version
    1  one thread per (sample, hidden unit), a grid-stride loop.
*/
#include "common.cuh"
#include "gru.h"

namespace vsd {
namespace VSD_KNS {

// One GRU step, pointwise: for every (b, j) whose sample is active at this step (pos[b] >= 0).
// gx: (B, T, 3H) input projections with b_ih; gh: (B, 3H) = h W_hh^T (without b_hh); h: (B, H) state.
__global__ void gru_gates_forward_kernel(float* y, float* h, float* r_out, float* z_out, float* n_out, float* hn_out,
                                         float* hprev_out, const float* gx, const float* gh, const float* b_hh,
                                         const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    VSD_GRID_STRIDE(t, B * H) {
        const int64_t b = t / H, j = t % H, p = pos[b];
        if (p < 0) continue;
        const int64_t o = b * T + p, G = 3 * H;
        const float hn = gh[b * G + 2 * H + j] + b_hh[2 * H + j];
        const float r = 1.0f / (1.0f + expf(-(gx[o * G + j] + gh[b * G + j] + b_hh[j])));
        const float z = 1.0f / (1.0f + expf(-(gx[o * G + H + j] + gh[b * G + H + j] + b_hh[H + j])));
        const float nn = tanhf(gx[o * G + 2 * H + j] + r * hn);
        const float hp = h[b * H + j], hnew = (1.0f - z) * nn + z * hp;
        r_out[o * H + j] = r; z_out[o * H + j] = z; n_out[o * H + j] = nn; hn_out[o * H + j] = hn; hprev_out[o * H + j] = hp;
        h[b * H + j] = hnew;
        y[o * H + j] = hnew;
    }
}

// The backward of one step, pointwise: fills dgx (per position) and dgh (per sample), and sets dh to
// the direct path g * z (the caller adds dgh W_hh with a GEMM). Inactive samples get dgh = 0.
__global__ void gru_gates_backward_kernel(float* dgx, float* dgh, float* dh, const float* dy, const float* r_in,
                                          const float* z_in, const float* n_in, const float* hn_in, const float* hprev,
                                          const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    VSD_GRID_STRIDE(t, B * H) {
        const int64_t b = t / H, j = t % H, p = pos[b], G = 3 * H;
        if (p < 0) {
            dgh[b * G + j] = dgh[b * G + H + j] = dgh[b * G + 2 * H + j] = 0.0f;
            continue;
        }
        const int64_t o = b * T + p;
        const float g = dh[b * H + j] + dy[o * H + j];
        const float r = r_in[o * H + j], z = z_in[o * H + j], nn = n_in[o * H + j], hn = hn_in[o * H + j], h0 = hprev[o * H + j];
        const float dn = g * (1.0f - z), dz = g * (h0 - nn), dan = dn * (1.0f - nn * nn);
        const float dar = dan * hn * r * (1.0f - r), daz = dz * z * (1.0f - z);
        dgx[o * G + j] = dar; dgx[o * G + H + j] = daz; dgx[o * G + 2 * H + j] = dan;
        dgh[b * G + j] = dar; dgh[b * G + H + j] = daz; dgh[b * G + 2 * H + j] = dan * r;
        dh[b * H + j] = g * z;
    }
}

void gru_gates_forward(float* y, float* h, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                       const float* gh, const float* b_hh, const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    if (B * H > 0) VSD_LAUNCH(gru_gates_forward_kernel, grid1d(B * H), 256, 0, y, h, r, z, n, hn, hprev, gx, gh, b_hh, pos, B, T, H);
}

void gru_gates_backward(float* dgx, float* dgh, float* dh, const float* dy, const float* r, const float* z, const float* n,
                        const float* hn, const float* hprev, const int64_t* pos, int64_t B, int64_t T, int64_t H) {
    if (B * H > 0) VSD_LAUNCH(gru_gates_backward_kernel, grid1d(B * H), 256, 0, dgx, dgh, dh, dy, r, z, n, hn, hprev, pos, B, T, H);
}

}  // namespace VSD_KNS
}  // namespace vsd
