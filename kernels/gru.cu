/*
The GRU's recurrence on the GPU.                      CPU reference: gru_forward_cpu / gru_backward_cpu
                                                      (kernels/gru.cpp)
What it computes
    The part of a GRU direction that must walk the positions in order. Around it, src/ops/gru.cpp
    does the parallel work with GEMMs: gx = x W_ih^T + b_ih for every position before, and after
    the backward walk dx = dgx W_ih, dW_ih = dgx^T x, dW_hh = dgh^T h_prev (one GEMM over all
    positions, from the per-position dgh this file writes), db_ih and db_hh as column sums.

Versions
    1  one launch per time step: a GEMM gh = h W_hh^T (cuBLAS), then gru_gates_forward moves every
       active sample one position (a thread per (sample, hidden unit)). The backward likewise, with
       dh += dgh W_hh as a GEMM between the steps. 2T launches each way: fine for a wide GRU (the
       text encoder's H = 1024, where each step's GEMM is real work), launch-bound for a narrow one.
    2  the whole walk in one launch: one block per sample, 3H threads. Each step, thread j computes
       its own row of gh = W_hh h (a dot of length H, with h in shared memory), a barrier, then
       the first H threads apply the gates and write h', another barrier. The backward walks the
       positions in reverse the same way, thread k < H computing dh_prev[k] = g z + sum_j dgh[j]
       W_hh[j, k]. For GPO's GRU (H = 32, 3H = 96 threads) that is 2 launches per direction instead
       of 4T, and W_hh (12 KB) stays in the L1 cache. Used when H <= kGruRecurrenceMaxHidden.
    Both write zeros at the padded positions of everything they produce (so no buffer needs a
    memset), and save the state each position started from (hprev), which dW_hh reads.

Both directions at once (dirs = 2, a bidirectional GRU)
    The buffers stack the directions, (dirs, B, T, ...), and sample q = d B + b is sample b in
    direction d (0 forward, 1 reverse), with direction d's W_hh and b_hh (GruRecurrent). So one gate
    launch serves both directions, version 1's per-step GEMM is one batched GEMM (over a stacked
    copy of the two W_hh), and version 2 is one launch of 2B blocks: a bidirectional GRU costs what
    one direction did.
*/
#include "common.cuh"
#include "gru.h"

namespace vsd {
namespace VSD_KNS {

__device__ inline float gru_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// ---- version 1: one time step, pointwise ---------------------------------------------------------

// For every (b, j) whose sample is active at step s. gx: (B, T, 3H) input projections with b_ih;
// gh: (B, 3H) = h W_hh^T (without b_hh); h: (B, H) state.
__global__ void gru_gates_forward_kernel(float* y, float* h, float* r_out, float* z_out, float* n_out, float* hn_out,
                                         float* hprev_out, const float* gx, const float* gh, GruRecurrent rw,
                                         const int64_t* len, int64_t s, bool reverse, int dirs, int64_t B, int64_t T,
                                         int64_t H) {
    VSD_GRID_STRIDE(t, dirs * B * H) {
        // q = d B + b: sample b in direction d (the buffers stack the directions)
        const int64_t q = t / H, j = t % H, d = q / B, b = q % B, G = 3 * H;
        const int64_t p = gru_position(s, len[b], gru_reverse(d, dirs, reverse));
        if (p < 0) {  // finished: position s is padding (s >= len in both directions)
            const int64_t o = (q * T + s) * H + j;
            y[o] = r_out[o] = z_out[o] = n_out[o] = hn_out[o] = hprev_out[o] = 0.0f;
            continue;
        }
        const int64_t o = q * T + p;
        const float* bh = rw.b_hh[d];
        const float hn = gh[q * G + 2 * H + j] + bh[2 * H + j];
        const float r = gru_sigmoid(gx[o * G + j] + gh[q * G + j] + bh[j]);
        const float z = gru_sigmoid(gx[o * G + H + j] + gh[q * G + H + j] + bh[H + j]);
        const float nn = tanhf(gx[o * G + 2 * H + j] + r * hn);
        const float hp = h[q * H + j], hnew = (1.0f - z) * nn + z * hp;
        r_out[o * H + j] = r; z_out[o * H + j] = z; n_out[o * H + j] = nn; hn_out[o * H + j] = hn; hprev_out[o * H + j] = hp;
        h[q * H + j] = hnew;
        y[o * H + j] = hnew;
    }
}

// The backward of step s, pointwise: fills dgx and dghs (per position) and dgh (per sample, for the
// GEMM dh += dgh W_hh that follows), and sets dh to the direct path g * z. Inactive samples get dgh = 0.
__global__ void gru_gates_backward_kernel(float* dgx, float* dgh, float* dghs, float* dh, const float* dy,
                                          const float* r_in, const float* z_in, const float* n_in, const float* hn_in,
                                          const float* hprev, const int64_t* len, int64_t s, bool reverse, int dirs,
                                          int64_t B, int64_t T, int64_t H) {
    VSD_GRID_STRIDE(t, dirs * B * H) {
        const int64_t q = t / H, j = t % H, d = q / B, b = q % B, G = 3 * H;
        const int64_t p = gru_position(s, len[b], gru_reverse(d, dirs, reverse));
        if (p < 0) {  // finished: no gradient to carry, and position s is padding
            dgh[q * G + j] = dgh[q * G + H + j] = dgh[q * G + 2 * H + j] = 0.0f;
            const int64_t o = q * T + s;
            dgx[o * G + j] = dgx[o * G + H + j] = dgx[o * G + 2 * H + j] = 0.0f;
            dghs[o * G + j] = dghs[o * G + H + j] = dghs[o * G + 2 * H + j] = 0.0f;
            continue;
        }
        const int64_t o = q * T + p;
        const float g = dh[q * H + j] + dy[o * H + j];
        const float r = r_in[o * H + j], z = z_in[o * H + j], nn = n_in[o * H + j], hn = hn_in[o * H + j], h0 = hprev[o * H + j];
        const float dn = g * (1.0f - z), dz = g * (h0 - nn), dan = dn * (1.0f - nn * nn);
        const float dar = dan * hn * r * (1.0f - r), daz = dz * z * (1.0f - z);
        dgx[o * G + j] = dar; dgx[o * G + H + j] = daz; dgx[o * G + 2 * H + j] = dan;
        dgh[q * G + j] = dghs[o * G + j] = dar;
        dgh[q * G + H + j] = dghs[o * G + H + j] = daz;
        dgh[q * G + 2 * H + j] = dghs[o * G + 2 * H + j] = dan * r;
        dh[q * H + j] = g * z;
    }
}

// ---- version 2: the whole walk, one block per sample -------------------------------------------

// Zeros at sample b's padded positions p in [len, T) of a (B, T, width) buffer, by the block's threads.
__device__ inline void gru_zero_padding(float* buf, int64_t b, int64_t len, int64_t T, int64_t width) {
    for (int64_t i = threadIdx.x; i < (T - len) * width; i += blockDim.x) buf[(b * T + len) * width + i] = 0.0f;
}

// Dynamic shared memory: h (H floats), then gh (3H floats).
__global__ void gru_recurrence_forward_kernel(float* y, float* r_out, float* z_out, float* n_out, float* hn_out,
                                              float* hprev_out, const float* gx, GruRecurrent rw, const int64_t* len, bool reverse, int dirs, int64_t B, int64_t T,
                                              int64_t H) {
    VSD_DYNAMIC_SHARED(float, h);
    float* gh = h + H;
    // block q = d B + b: sample b in direction d, with that direction's weights
    const int64_t q = blockIdx.x, d = q / B, G = 3 * H, L = len[q % B], j = threadIdx.x;
    reverse = gru_reverse(d, dirs, reverse);
    const float *w_hh = rw.w_hh[d], *b_hh = rw.b_hh[d];
    if (j < H) h[j] = 0.0f;
    __syncthreads();
    for (int64_t s = 0; s < L; s++) {
        const int64_t o = q * T + (reverse ? L - 1 - s : s);
        // 1. row j of W_hh h + b_hh
        float acc = b_hh[j];
        for (int64_t k = 0; k < H; k++) acc += w_hh[j * H + k] * h[k];
        gh[j] = acc;
        __syncthreads();
        // 2. the gates of hidden unit j (the PyTorch equations in kernels/gru.h)
        if (j < H) {
            const float r = gru_sigmoid(gx[o * G + j] + gh[j]);
            const float z = gru_sigmoid(gx[o * G + H + j] + gh[H + j]);
            const float nn = tanhf(gx[o * G + 2 * H + j] + r * gh[2 * H + j]);
            const float hp = h[j], hnew = (1.0f - z) * nn + z * hp;
            r_out[o * H + j] = r; z_out[o * H + j] = z; n_out[o * H + j] = nn; hn_out[o * H + j] = gh[2 * H + j];
            hprev_out[o * H + j] = hp;
            y[o * H + j] = h[j] = hnew;
        }
        __syncthreads();  // h' is complete before the next step reads it
    }
    // padded positions: y is 0 there (the op's contract); the saved gates only keep the memory defined
    // (in both directions a sample's padding is positions [L, T))
    float* outs[6] = {y, r_out, z_out, n_out, hn_out, hprev_out};
    for (float* out : outs) gru_zero_padding(out, q, L, T, H);
}

// Dynamic shared memory: dh (H floats), then dgh (3H floats) of the current position.
__global__ void gru_recurrence_backward_kernel(float* dgx, float* dghs, const float* dy, const float* r_in,
                                               const float* z_in, const float* n_in, const float* hn_in,
                                               const float* hprev, GruRecurrent rw, const int64_t* len, bool reverse,
                                               int dirs, int64_t B, int64_t T, int64_t H) {
    VSD_DYNAMIC_SHARED(float, dh);
    float* dgh = dh + H;
    const int64_t q = blockIdx.x, d = q / B, G = 3 * H, L = len[q % B], k = threadIdx.x;
    reverse = gru_reverse(d, dirs, reverse);
    const float* w_hh = rw.w_hh[d];
    if (k < H) dh[k] = 0.0f;  // (no barrier: dh[k] is only ever read and written by thread k)
    for (int64_t s = L - 1; s >= 0; s--) {
        const int64_t o = q * T + (reverse ? L - 1 - s : s);
        // 1. unit k's gate gradients at this position (kernels/gru.cpp's derivation)
        float direct = 0.0f;
        if (k < H) {
            const float g = dh[k] + dy[o * H + k];
            const float r = r_in[o * H + k], z = z_in[o * H + k], nn = n_in[o * H + k], hn = hn_in[o * H + k];
            const float dn = g * (1.0f - z), dz = g * (hprev[o * H + k] - nn), dan = dn * (1.0f - nn * nn);
            const float dar = dan * hn * r * (1.0f - r), daz = dz * z * (1.0f - z);
            dgx[o * G + k] = dar; dgx[o * G + H + k] = daz; dgx[o * G + 2 * H + k] = dan;
            dghs[o * G + k] = dgh[k] = dar;
            dghs[o * G + H + k] = dgh[H + k] = daz;
            dghs[o * G + 2 * H + k] = dgh[2 * H + k] = dan * r;
            direct = g * z;
        }
        __syncthreads();
        // 2. the state gradient carried to the previous position: g z + (dgh W_hh)[k]
        if (k < H) {
            float acc = direct;
            for (int64_t j = 0; j < G; j++) acc += dgh[j] * w_hh[j * H + k];
            dh[k] = acc;
        }
        __syncthreads();  // dgh is read by all before the next position overwrites it
    }
    gru_zero_padding(dgx, q, L, T, G);
    gru_zero_padding(dghs, q, L, T, G);
}

// ---- launchers ---------------------------------------------------------------------------------

void gru_gates_forward(float* y, float* h, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                       const float* gh, const GruRecurrent& rw, const int64_t* len, int64_t s, bool reverse, int dirs,
                       int64_t B, int64_t T, int64_t H) {
    if (dirs * B * H > 0)
        VSD_LAUNCH(gru_gates_forward_kernel, grid1d(dirs * B * H), 256, 0, y, h, r, z, n, hn, hprev, gx, gh, rw, len, s,
                   reverse, dirs, B, T, H);
}

void gru_gates_backward(float* dgx, float* dgh, float* dghs, float* dh, const float* dy, const float* r, const float* z,
                        const float* n, const float* hn, const float* hprev, const int64_t* len, int64_t s, bool reverse,
                        int dirs, int64_t B, int64_t T, int64_t H) {
    if (dirs * B * H > 0)
        VSD_LAUNCH(gru_gates_backward_kernel, grid1d(dirs * B * H), 256, 0, dgx, dgh, dghs, dh, dy, r, z, n, hn, hprev, len,
                   s, reverse, dirs, B, T, H);
}

void gru_recurrence_forward(float* y, float* r, float* z, float* n, float* hn, float* hprev, const float* gx,
                            const GruRecurrent& rw, const int64_t* len, bool reverse, int dirs, int64_t B, int64_t T,
                            int64_t H) {
    ENSURE(H <= kGruRecurrenceMaxHidden, "gru_recurrence_forward: H = %lld > %lld", (long long)H,
           (long long)kGruRecurrenceMaxHidden);
    if (dirs * B > 0 && H > 0)
        VSD_LAUNCH(gru_recurrence_forward_kernel, dirs * B, 3 * H, 4 * H * sizeof(float), y, r, z, n, hn, hprev, gx, rw,
                   len, reverse, dirs, B, T, H);
}

void gru_recurrence_backward(float* dgx, float* dghs, const float* dy, const float* r, const float* z, const float* n,
                             const float* hn, const float* hprev, const GruRecurrent& rw, const int64_t* len, bool reverse,
                             int dirs, int64_t B, int64_t T, int64_t H) {
    ENSURE(H <= kGruRecurrenceMaxHidden, "gru_recurrence_backward: H = %lld > %lld", (long long)H,
           (long long)kGruRecurrenceMaxHidden);
    if (dirs * B > 0 && H > 0)
        VSD_LAUNCH(gru_recurrence_backward_kernel, dirs * B, 3 * H, 4 * H * sizeof(float), dgx, dghs, dy, r, z, n, hn, hprev,
                   rw, len, reverse, dirs, B, T, H);
}

}  // namespace VSD_KNS
}  // namespace vsd
