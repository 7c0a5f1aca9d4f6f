// gru.cpp — GRU forward and backward through time, on the CPU.
//
// Forward, step s of the recurrence (all samples at once; sample b is at position
// p = s (forward) or len[b]-1-s (reverse), and only samples with s < len[b] move):
//   1. gx = x W_ih^T + b_ih for every position at once (one GEMM, before the loop)
//   2. gh = h W_hh^T + b_hh                         (one GEMM per step, B x H x 3H)
//   3. r, z, n and h' elementwise
//
// Backward, walking the steps in reverse with dh = dy[p] + (gradient from the later step):
//   dn = dh (1 - z)          dz = dh (h - n)          dh_prev = dh z  (+ the W_hh path below)
//   da_n = dn (1 - n^2)      (n = tanh(a_n), a_n = gx_n + r * hn)
//   dr = da_n * hn           dhn = da_n * r
//   da_r = dr r (1 - r)      da_z = dz z (1 - z)
//   dgh = [da_r, da_z, dhn]   ->  dh_prev += dgh W_hh,  dW_hh += dgh^T h_prev,  db_hh += dgh
//   dgx = [da_r, da_z, da_n]  ->  (after the loop) dx += dgx W_ih, dW_ih += dgx^T x, db_ih += sum dgx
#include "gru.h"

#include <cmath>
#include <cstring>

#include "gemm.h"

namespace vsd {

static inline float sigm(float v) { return 1.0f / (1.0f + std::exp(-v)); }


void gru_forward_cpu(float* y, GruCache& c, const float* x, const int64_t* len, const float* w_ih, const float* w_hh,
                     const float* b_ih, const float* b_hh, int64_t B, int64_t T, int64_t I, int64_t H, bool reverse) {
    const int64_t G = 3 * H;
    c.gx.assign(B * T * G, 0.0f);
    c.r.assign(B * T * H, 0.0f);
    c.z.assign(B * T * H, 0.0f);
    c.n.assign(B * T * H, 0.0f);
    c.hn.assign(B * T * H, 0.0f);
    c.hprev.assign(B * T * H, 0.0f);
    if (B * T * H > 0) std::memset(y, 0, sizeof(float) * B * T * H);
    // 1. input projections for all positions: (B*T, I) x (I, 3H)
    gemm_cpu(false, true, B * T, G, I, 1.0f, x, I, w_ih, I, 0.0f, c.gx.data(), G);
    for (int64_t k = 0; k < B * T; k++)
        for (int64_t g = 0; g < G; g++) c.gx[k * G + g] += b_ih[g];
    int64_t steps = 0;
    for (int64_t b = 0; b < B; b++) steps = len[b] > steps ? len[b] : steps;
    std::vector<float> h(B * H, 0.0f), gh(B * G);
    const PackedB w_hh_t(true, H, G, w_hh, H);  // W_hh^T, packed once for every step
    for (int64_t s = 0; s < steps; s++) {
        // 2. recurrent projections of the current states
        gemm_packed_cpu(false, B, 1.0f, h.data(), H, w_hh_t, 0.0f, gh.data(), G);
        // 3. gates, per sample that is still running
#pragma omp parallel for if (B * H > 16384)
        for (int64_t b = 0; b < B; b++) {
            const int64_t p = gru_position(s, len[b], reverse);
            if (p < 0) continue;
            const int64_t o = b * T + p;  // (b, p) row
            const float* gxr = &c.gx[o * G];
            const float* ghr = &gh[b * G];
            for (int64_t j = 0; j < H; j++) {
                float hn = ghr[2 * H + j] + b_hh[2 * H + j];
                float r = sigm(gxr[j] + ghr[j] + b_hh[j]);
                float z = sigm(gxr[H + j] + ghr[H + j] + b_hh[H + j]);
                float n = std::tanh(gxr[2 * H + j] + r * hn);
                float hp = h[b * H + j];
                float hnew = (1.0f - z) * n + z * hp;
                c.r[o * H + j] = r;
                c.z[o * H + j] = z;
                c.n[o * H + j] = n;
                c.hn[o * H + j] = hn;
                c.hprev[o * H + j] = hp;
                h[b * H + j] = hnew;
                y[o * H + j] = hnew;
            }
        }
    }
}

void gru_backward_cpu(float* dx, float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, const float* dy,
                      const GruCache& c, const float* x, const int64_t* len, const float* w_ih, const float* w_hh,
                      int64_t B, int64_t T, int64_t I, int64_t H, bool reverse) {
    const int64_t G = 3 * H;
    int64_t steps = 0;
    for (int64_t b = 0; b < B; b++) steps = len[b] > steps ? len[b] : steps;
    std::vector<float> dgx(B * T * G, 0.0f);  // gradient of the input projections, per position
    std::vector<float> dh(B * H, 0.0f);       // gradient flowing into the state from later steps
    std::vector<float> dgh(B * G);            // gradient of the recurrent projections, this step
    const PackedB w_hh_p(false, G, H, w_hh, H);  // W_hh, packed once for every step
    for (int64_t s = steps - 1; s >= 0; s--) {
        std::fill(dgh.begin(), dgh.end(), 0.0f);
#pragma omp parallel for if (B * H > 16384)
        for (int64_t b = 0; b < B; b++) {
            const int64_t p = gru_position(s, len[b], reverse);
            if (p < 0) continue;
            const int64_t o = b * T + p;
            for (int64_t j = 0; j < H; j++) {
                const float g = dh[b * H + j] + dy[o * H + j];
                const float r = c.r[o * H + j], z = c.z[o * H + j], n = c.n[o * H + j], hn = c.hn[o * H + j];
                const float h0 = c.hprev[o * H + j];
                const float dn = g * (1.0f - z), dz = g * (h0 - n);
                const float dan = dn * (1.0f - n * n);
                const float dr = dan * hn;
                const float dar = dr * r * (1.0f - r), daz = dz * z * (1.0f - z);
                dgx[o * G + j] = dar;
                dgx[o * G + H + j] = daz;
                dgx[o * G + 2 * H + j] = dan;
                dgh[b * G + j] = dar;
                dgh[b * G + H + j] = daz;
                dgh[b * G + 2 * H + j] = dan * r;  // d(hn) = da_n * r
                dh[b * H + j] = g * z;              // direct path h -> h'
            }
        }
        // the W_hh path within the walk: dh_prev += dgh W_hh
        gemm_packed_cpu(false, B, 1.0f, dgh.data(), G, w_hh_p, 1.0f, dh.data(), H);
        // samples that are not running at this step pass no gradient back (dh stays as it was,
        // which is 0 until their last position is reached)
        for (int64_t b = 0; b < B; b++)
            if (gru_position(s, len[b], reverse) < 0) std::fill(dh.begin() + b * H, dh.begin() + (b + 1) * H, 0.0f);
    }
    // the input path, for all positions at once
    if (dx) gemm_cpu(false, false, B * T, I, G, 1.0f, dgx.data(), G, w_ih, I, 1.0f, dx, I);
    if (dw_ih) gemm_cpu(true, false, G, I, B * T, 1.0f, dgx.data(), G, x, I, 1.0f, dw_ih, I);
    if (db_ih)
        for (int64_t k = 0; k < B * T; k++)
            for (int64_t g = 0; g < G; g++) db_ih[g] += dgx[k * G + g];
    // the recurrent weights, for all positions at once, after the walk (a product per step, with
    // K = B, would read and write all of dW_hh at every step), as the device does (kernels/gru.cu).
    // The recurrent projections' gradient at a position is dgx's with its n part times r (d(hn) =
    // da_n r), so dgx becomes it in place; padded positions stay 0.
    if (!dw_hh && !db_hh) return;
    for (int64_t o = 0; o < B * T; o++)
        for (int64_t j = 0; j < H; j++) dgx[o * G + 2 * H + j] *= c.r[o * H + j];
    if (dw_hh) gemm_cpu(true, false, G, H, B * T, 1.0f, dgx.data(), G, c.hprev.data(), H, 1.0f, dw_hh, H);
    if (db_hh)
        for (int64_t k = 0; k < B * T; k++)
            for (int64_t g = 0; g < G; g++) db_hh[g] += dgx[k * G + g];
}

}  // namespace vsd
