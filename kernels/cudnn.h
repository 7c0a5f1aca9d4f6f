// cudnn.h — cuDNN, the expert's fast path, behind the programs' --cudnn 1 flag (default 0).
//
// Two places where an expert would hand the work to NVIDIA's library on a GPU:
//
//   GRU        cudnnRNNForward, cudnnRNNBackwardData_v8, cudnnRNNBackwardWeights_v8: a whole
//              (bi)directional layer over the padded batch in one call each way; cuDNN schedules the
//              recurrent GEMMs of all steps itself (PyTorch's nn.GRU runs exactly this on a GPU).
//   attention  cudnnMultiHeadAttnForward: BERT's Q/K/V projections (with their biases), the scaled
//              dot-product attention over each sample's real keys and the concatenation of the heads,
//              in one call. Inference only, like our fused kernel (kernels/attention.cu).
//
// Our own kernels stay the reference (the GRU of src/ops/gru.cpp: GEMMs + the gate kernel of
// kernels/gru.cu; the attention of kernels/attention.cu), and tests/test_cuda_parity.cpp
// ("GPU parity: cuDNN ...") compares both paths on a real GPU. cuDNN has no CPU implementation, so
// the emulator cannot run this file: CI compiles it (CUDA builds) and runs its error paths only.
//
// How our tensors map onto cuDNN's
//   GRU: PyTorch's gate order (r, z, n) with both biases is cuDNN's CUDNN_GRU with
//        CUDNN_RNN_DOUBLE_BIAS: linear-layer ids 0, 1, 2 are W_ir, W_iz, W_in (rows of w_ih), ids 3,
//        4, 5 are W_hr, W_hz, W_hn (rows of w_hh); each is an (H, in) row-major block, so our weights
//        are copied into cuDNN's packed weight space unchanged. Pseudo-layer 0 is the forward
//        direction, 1 the reverse. Data: batch-major padded (B, T, I) -> (B, T, dirs*H) with each
//        sample's own length, the forward direction in the first H columns: what PyTorch's
//        pack_padded_sequence gives.
//   MHA: head a's projection W_{Q,a} is rows a*d .. a*d+d-1 of our query weight (E, E); cuDNN reports
//        where each (head, row, column) lives through a tensor descriptor, and we copy by those
//        strides. With no output projection (oProjSize 0) the output is the heads side by side,
//        (B, L, heads*d): exactly our attention op's layout.
//
// Precision: CUDNN_FMA_MATH (FP32 FMAs, no TF32), so both paths agree to rounding; with
// set_tf32(true) (--tf32 1) CUDNN_DEFAULT_MATH, which lets cuDNN use TF32 tensor cores.
// Memory: packed weights, workspaces and reserve space come from our caching pool (memory_pool.cu).
// Cost of the copies: the GRU's weights are re-packed every call (3H(I+H) floats per direction:
// 12.6 MB for GPO's 300->1024 BiGRU, ~3 us of HBM traffic on an H200), negligible beside the
// recurrence; the same holds for the attention's 3E^2 floats.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace vsd {
namespace cudnn {

// Can cuDNN run here: a CUDA build, a GPU, and the library loads? When not, `why` says why.
bool available(std::string* why = nullptr);
void set_tf32(bool on);

// One direction's weights in PyTorch's layout: w_ih (3H, I), w_hh (3H, H), b_ih (3H), b_hh (3H).
struct GruParams {
    const float *w_ih, *w_hh, *b_ih, *b_hh;
};
// Their gradients, accumulated into (+=); a null pointer skips that one.
struct GruGrads {
    float *w_ih, *w_hh, *b_ih, *b_hh;
};
struct GruState;  // descriptors, the packed weights and the reserve space, from forward to backward

// y (B, T, dirs*H) = GRU(x (B, T, I)); lengths (B,) in [1, T]; p[0] forward, p[1] reverse (dirs 2).
// Positions at or past a sample's length get y = 0. training keeps the reserve space for backward.
std::shared_ptr<GruState> gru_forward(float* y, const float* x, const std::vector<int>& lengths, int T, int I, int H,
                                      int dirs, const GruParams* p, bool training);
// dx (+=, may be null) and the weight gradients g[dir] (+=) from dy (B, T, dirs*H); x and y are
// the forward's input and output. dy at padded positions is ignored.
void gru_backward(GruState& s, float* dx, const GruGrads* g, const float* dy, const float* x, const float* y);

// Multi-head self-attention with the input projections:
//   out (B, L, E) = attention(h Wq^T + bq, h Wk^T + bk, h Wv^T + bv) over keys t < key_len[b],
// heads of d = E / heads columns, softmax scale `scale`. h (B, L, E); W (E, E); b (E).
// key_len (B,) in [1, L]. Every query row is computed (padding rows too), as kernels/attention.cu.
struct AttnParams {
    const float *wq, *bq, *wk, *bk, *wv, *bv;
};
void attention_forward(float* out, const float* h, const AttnParams& p, const std::vector<int>& key_len, int L, int E,
                       int heads, float scale);

}  // namespace cudnn
}  // namespace vsd
