// cudnn.cpp — the cuDNN calls behind --cudnn 1 (see cudnn.h for what maps onto what).
//
// Host code only (no kernels of ours): descriptors, the packing of our weights into cuDNN's
// buffers, the calls, and the unpacking of gradients. Every cuDNN call is checked (file:line and
// cuDNN's own error string). CPU-only builds get stubs that say cuDNN is not built.
#include "cudnn.h"

#include "../src/core/check.h"

#ifndef USE_CUDA

namespace vsd {
namespace cudnn {
bool available(std::string* why) {
    if (why) *why = "a CPU-only build (no nvcc when it was built)";
    return false;
}
void set_tf32(bool) {}
std::shared_ptr<GruState> gru_forward(float*, const float*, const std::vector<int>&, int, int, int, int,
                                      const GruParams*, bool) {
    FATAL("cuDNN is not built in. HINT: build with nvcc on PATH and run with --device cuda on a GPU");
}
void gru_backward(GruState&, float*, const GruGrads*, const float*, const float*, const float*) {
    FATAL("cuDNN is not built in");
}
void attention_forward(float*, const float*, const AttnParams&, const std::vector<int>&, int, int, int, float) {
    FATAL("cuDNN is not built in. HINT: build with nvcc on PATH and run with --device cuda on a GPU");
}
}  // namespace cudnn
}  // namespace vsd

#else

#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdio>

#include "backend.h"  // cuda_available
#include "elementwise.h"
#include "memory_pool.h"
#include "select.h"  // masked_fill: zero the padded steps' gradients
#include "shape.h"   // permute: the projections into cuDNN's layout

// the multi-head attention API is marked deprecated in cuDNN 9 (its successor, the graph API's
// fused SDPA, runs FP16/BF16 only); it is still the library's FP32 attention
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define VSD_CUDNN_CHECK(call)                                                                  \
    do {                                                                                       \
        cudnnStatus_t st_ = (call);                                                            \
        if (st_ != CUDNN_STATUS_SUCCESS) FATAL("cuDNN: %s failed: %s", #call, cudnnGetErrorString(st_)); \
    } while (0)

// in destructors, which must not throw: the same check, reported on stderr
#define VSD_CUDNN_WARN(call)                                                                    \
    do {                                                                                        \
        cudnnStatus_t st_ = (call);                                                             \
        if (st_ != CUDNN_STATUS_SUCCESS)                                                        \
            std::fprintf(stderr, "warning: %s:%d: cuDNN: %s failed: %s\n", __FILE__, __LINE__, #call, \
                         cudnnGetErrorString(st_));                                              \
    } while (0)

namespace vsd {

namespace cudnn {

// ---- the library handle, and device buffers from our pool -------------------------------------
static cudnnHandle_t g_handle = nullptr;

bool available(std::string* why) {
    static int state = -1;  // -1 not asked yet, 0 no, 1 yes
    static std::string reason;
    if (state < 0) {
        if (!cuda_available()) {
            state = 0;
            reason = "no GPU is available";
        } else {
            cudnnStatus_t st = cudnnCreate(&g_handle);
            state = st == CUDNN_STATUS_SUCCESS ? 1 : 0;
            if (!state) reason = std::string("cudnnCreate failed: ") + cudnnGetErrorString(st);
        }
    }
    if (why) *why = reason;
    return state == 1;
}

static cudnnMathType_t g_math = CUDNN_FMA_MATH;  // CUDNN_DEFAULT_MATH with --tf32 1
void set_tf32(bool on) { g_math = on ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH; }

static cudnnHandle_t handle() {
    std::string why;
    ENSURE_HINT(available(&why), "run with --cudnn 0 (our own kernels)", "cuDNN cannot run: %s", why.c_str());
    return g_handle;
}

struct DevBuf {  // bytes of device memory from the caching pool, returned on destruction
    void* p = nullptr;
    size_t bytes = 0;
    explicit DevBuf(size_t n = 0) : bytes(n) { p = n ? cuda::pool_alloc(n) : nullptr; }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    ~DevBuf() {
        if (p) cuda::pool_free(p);
    }
    float* f() const { return static_cast<float*>(p); }
};

static void accumulate(float* dst, const float* src, int64_t n) {  // dst += src on the device
    if (n <= 0) return;
    Broadcast flat = {{1, 1, 1, n}, {0, 0, 0, 1}, {0, 0, 0, 1}};
    cuda::binary_forward(Binary::Add, dst, dst, src, flat);
}

static int64_t numel_of(cudnnTensorDescriptor_t d, int* dims = nullptr, int* strides = nullptr) {
    int nb = 0, dd[8], ss[8];
    cudnnDataType_t dt;
    VSD_CUDNN_CHECK(cudnnGetTensorNdDescriptor(d, 8, &dt, &nb, dd, ss));
    int64_t n = 1;
    for (int i = 0; i < nb; i++) n *= dd[i];
    if (dims) std::copy(dd, dd + nb, dims);
    if (strides) std::copy(ss, ss + nb, strides);
    return n;
}

// A dropout descriptor with p = 0 for the RNN descriptor (dropout acts between stacked layers;
// we have one); no random states are needed when nothing is dropped.
static cudnnDropoutDescriptor_t no_dropout() {
    static cudnnDropoutDescriptor_t d = nullptr;
    if (!d) {
        VSD_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&d));
        VSD_CUDNN_CHECK(cudnnSetDropoutDescriptor(d, handle(), 0.0f, nullptr, 0, 0));
    }
    return d;
}

// ---- GRU --------------------------------------------------------------------------------------
struct GruState {
    int B = 0, T = 0, I = 0, H = 0, dirs = 1;
    bool training = false;
    std::vector<int> len;  // host copy (the data descriptors keep their own)
    cudnnRNNDescriptor_t rnn = nullptr;
    cudnnRNNDataDescriptor_t xd = nullptr, yd = nullptr;
    cudnnTensorDescriptor_t hd = nullptr;  // (dirs, B, H): the initial state, zero (hx = null)
    size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
    std::unique_ptr<DevBuf> weights, reserve, seq;  // packed weights, reserve space, lengths on the device
    ~GruState() {
        if (rnn) VSD_CUDNN_WARN(cudnnDestroyRNNDescriptor(rnn));
        if (xd) VSD_CUDNN_WARN(cudnnDestroyRNNDataDescriptor(xd));
        if (yd) VSD_CUDNN_WARN(cudnnDestroyRNNDataDescriptor(yd));
        if (hd) VSD_CUDNN_WARN(cudnnDestroyTensorDescriptor(hd));
    }
};

// Where cuDNN keeps direction `dir`'s linear layer `id` (0-2 input, 3-5 recurrent) and its bias
// inside the weight space starting at `space`; checks their sizes against PyTorch's blocks.
static void gru_slot(const GruState& s, void* space, int dir, int id, float** m, float** b) {
    cudnnTensorDescriptor_t md, bd;
    VSD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&md));
    VSD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bd));
    void *ma = nullptr, *ba = nullptr;
    VSD_CUDNN_CHECK(cudnnGetRNNWeightParams(handle(), s.rnn, dir, s.weight_bytes, space, id, md, &ma, bd, &ba));
    const int64_t want_m = (int64_t)s.H * (id < 3 ? s.I : s.H), got_m = numel_of(md), got_b = numel_of(bd);
    VSD_CUDNN_CHECK(cudnnDestroyTensorDescriptor(md));
    VSD_CUDNN_CHECK(cudnnDestroyTensorDescriptor(bd));
    ENSURE(got_m == want_m && got_b == s.H, "cuDNN GRU: linear layer %d holds %lld weights and %lld biases, expected "
           "%lld and %d", id, (long long)got_m, (long long)got_b, (long long)want_m, s.H);
    *m = static_cast<float*>(ma);
    *b = static_cast<float*>(ba);
}

// The offsets of PyTorch's blocks for linear layer id: rows id*H.. of w_ih (id < 3) or w_hh.
static int64_t gru_block(const GruState& s, int id) { return (int64_t)(id % 3) * s.H * (id < 3 ? s.I : s.H); }

std::shared_ptr<GruState> gru_forward(float* y, const float* x, const std::vector<int>& lengths, int T, int I, int H,
                                      int dirs, const GruParams* p, bool training) {
    auto s = std::make_shared<GruState>();
    s->B = (int)lengths.size(), s->T = T, s->I = I, s->H = H, s->dirs = dirs, s->training = training, s->len = lengths;
    for (int l : lengths) ENSURE(l >= 1 && l <= T, "cuDNN GRU: every length must be in [1, %d], got %d", T, l);
    cudnnHandle_t h = handle();
    VSD_CUDNN_CHECK(cudnnCreateRNNDescriptor(&s->rnn));
    VSD_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(s->rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_GRU, CUDNN_RNN_DOUBLE_BIAS,
                                             dirs == 2 ? CUDNN_BIDIRECTIONAL : CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT,
                                             CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, g_math, I, H, H, 1,
                                             no_dropout(), CUDNN_RNN_PADDED_IO_ENABLED));
    static float zero = 0.0f;  // written at padded positions of y (static: outlives the descriptors)
    VSD_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&s->xd));
    VSD_CUDNN_CHECK(cudnnSetRNNDataDescriptor(s->xd, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T,
                                              s->B, I, s->len.data(), &zero));
    VSD_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&s->yd));
    VSD_CUDNN_CHECK(cudnnSetRNNDataDescriptor(s->yd, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T,
                                              s->B, dirs * H, s->len.data(), &zero));
    const int hdims[3] = {dirs, s->B, H}, hstrides[3] = {s->B * H, H, 1};
    VSD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&s->hd));
    VSD_CUDNN_CHECK(cudnnSetTensorNdDescriptor(s->hd, CUDNN_DATA_FLOAT, 3, hdims, hstrides));
    VSD_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(h, s->rnn, &s->weight_bytes));
    const cudnnForwardMode_t mode = training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE;
    VSD_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(h, s->rnn, mode, s->xd, &s->work_bytes, &s->reserve_bytes));
    // the lengths again, on the device (cuDNN's kernels read them asynchronously)
    s->seq = std::make_unique<DevBuf>(s->B * sizeof(int));
    cuda::copy_to_device(s->seq->p, s->len.data(), s->B * sizeof(int));
    // pack our weights: one device-to-device copy per matrix and bias
    s->weights = std::make_unique<DevBuf>(s->weight_bytes);
    cuda::device_zero(s->weights->p, s->weight_bytes);
    for (int dir = 0; dir < dirs; dir++)
        for (int id = 0; id < 6; id++) {
            float *m, *b;
            gru_slot(*s, s->weights->p, dir, id, &m, &b);
            const float* wsrc = (id < 3 ? p[dir].w_ih : p[dir].w_hh) + gru_block(*s, id);
            const float* bsrc = (id < 3 ? p[dir].b_ih : p[dir].b_hh) + (int64_t)(id % 3) * H;
            cuda::copy_on_device(m, wsrc, (size_t)H * (id < 3 ? I : H) * sizeof(float));
            cuda::copy_on_device(b, bsrc, (size_t)H * sizeof(float));
        }
    DevBuf work(s->work_bytes);
    s->reserve = std::make_unique<DevBuf>(s->reserve_bytes);
    VSD_CUDNN_CHECK(cudnnRNNForward(h, s->rnn, mode, static_cast<const int32_t*>(s->seq->p), s->xd, x, s->yd, y, s->hd,
                                    nullptr, nullptr, s->hd, nullptr, nullptr, s->weight_bytes, s->weights->p,
                                    s->work_bytes, work.p, s->reserve_bytes, s->reserve->p));
    return s;
}

void gru_backward(GruState& s, float* dx, const GruGrads* g, const float* dy, const float* x, const float* y) {
    ENSURE(s.training, "cuDNN GRU: backward needs a forward run in training mode");
    cudnnHandle_t h = handle();
    const int64_t B = s.B, T = s.T, C = (int64_t)s.dirs * s.H;
    // dy with its padded positions zeroed: the reference GRU ignores them, and cuDNN's
    // documentation does not promise to
    std::vector<float> pad(B * T);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) pad[b * T + t] = t >= s.len[b] ? 1.0f : 0.0f;
    DevBuf mask(pad.size() * sizeof(float)), dyc((size_t)B * T * C * sizeof(float));
    cuda::copy_to_device(mask.p, pad.data(), pad.size() * sizeof(float));
    const Broadcast pad_bc = {{1, B, T, C}, {0, T * C, C, 1}, {0, T, 1, 0}};
    cuda::masked_fill(dyc.f(), dy, mask.f(), 0.0f, pad_bc);
    // 1. data gradients (must come first: it prepares the reserve space for the weight pass)
    DevBuf work(s.work_bytes), dxb((size_t)B * T * s.I * sizeof(float));
    cuda::device_zero(dxb.p, dxb.bytes);  // padded rows stay 0
    VSD_CUDNN_CHECK(cudnnRNNBackwardData_v8(h, s.rnn, static_cast<const int32_t*>(s.seq->p), s.yd, y, dyc.p, s.xd,
                                            dxb.p, s.hd, nullptr, nullptr, nullptr, s.hd, nullptr, nullptr, nullptr,
                                            s.weight_bytes, s.weights->p, s.work_bytes, work.p, s.reserve_bytes,
                                            s.reserve->p));
    if (dx) accumulate(dx, dxb.f(), B * T * s.I);
    // 2. weight gradients, summed into a zeroed copy of the weight space, then unpacked
    DevBuf dw(s.weight_bytes);
    cuda::device_zero(dw.p, dw.bytes);
    VSD_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(h, s.rnn, CUDNN_WGRAD_MODE_ADD, static_cast<const int32_t*>(s.seq->p),
                                               s.xd, x, s.hd, nullptr, s.yd, y, s.weight_bytes, dw.p, s.work_bytes,
                                               work.p, s.reserve_bytes, s.reserve->p));
    for (int dir = 0; dir < s.dirs; dir++)
        for (int id = 0; id < 6; id++) {
            float *m, *b;
            gru_slot(s, dw.p, dir, id, &m, &b);
            float* wdst = id < 3 ? g[dir].w_ih : g[dir].w_hh;
            float* bdst = id < 3 ? g[dir].b_ih : g[dir].b_hh;
            if (wdst) accumulate(wdst + gru_block(s, id), m, (int64_t)s.H * (id < 3 ? s.I : s.H));
            if (bdst) accumulate(bdst + (int64_t)(id % 3) * s.H, b, s.H);
        }
}

// ---- multi-head attention ----------------------------------------------------------------------
// Copy a projection weight W (E, E) = heads blocks of (d, E), row-major, into cuDNN's slot, whose
// descriptor gives each axis's size and stride. Our axes are (head, row, column) = (heads, d, E);
// the slot is dense in some order of them, and the permute kernel writes exactly that order.
static void put_projection(float* dst, cudnnTensorDescriptor_t wd, const float* W, int heads, int d, int E) {
    int dims[8] = {0}, strides[8] = {0};
    const int64_t n = numel_of(wd, dims, strides);
    ENSURE(n == (int64_t)heads * d * E, "cuDNN attention: a projection slot holds %lld weights, expected %lld",
           (long long)n, (long long)heads * d * E);
    // match cuDNN's axes to ours: its axis 0 is the head; of axes 1 and 2, one has d rows, one E columns
    int ax_row = 1, ax_col = 2;
    if (dims[1] == E && dims[2] == d && d != E) std::swap(ax_row, ax_col);
    ENSURE(dims[0] == heads && dims[ax_row] == d && dims[ax_col] == E,
           "cuDNN attention: unexpected weight layout %dx%dx%d for %d heads of %dx%d", dims[0], dims[1], dims[2], heads,
           d, E);
    const int64_t st[3] = {strides[0], strides[ax_row], strides[ax_col]}, sz[3] = {heads, d, E};
    int order[3] = {0, 1, 2};  // our axes, from the slowest to the fastest in the slot
    std::sort(order, order + 3, [&](int a, int b) { return st[a] > st[b]; });
    ENSURE(st[order[2]] == 1 && st[order[1]] == sz[order[2]] && st[order[0]] == sz[order[2]] * sz[order[1]],
           "cuDNN attention: the weight slot is not dense (strides %lld, %lld, %lld)", (long long)st[0],
           (long long)st[1], (long long)st[2]);
    const int64_t in_shape[4] = {1, heads, d, E};
    const int perm[4] = {0, 1 + order[0], 1 + order[1], 1 + order[2]};
    cuda::permute(dst, W, in_shape, perm, false);
}

void attention_forward(float* out, const float* hs, const AttnParams& p, const std::vector<int>& key_len, int L, int E,
                       int heads, float scale) {
    const int B = (int)key_len.size(), d = E / heads;
    ENSURE(heads > 0 && E % heads == 0, "cuDNN attention: %d columns do not split into %d heads", E, heads);
    for (int l : key_len) ENSURE(l >= 1 && l <= L, "cuDNN attention: every key length must be in [1, %d], got %d", L, l);
    cudnnHandle_t h = handle();
    cudnnAttnDescriptor_t attn;
    VSD_CUDNN_CHECK(cudnnCreateAttnDescriptor(&attn));
    VSD_CUDNN_CHECK(cudnnSetAttnDescriptor(attn, CUDNN_ATTN_QUERYMAP_ALL_TO_ONE | CUDNN_ATTN_ENABLE_PROJ_BIASES, heads,
                                           scale, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, g_math, nullptr,
                                           nullptr, E, E, E, d, d, d, 0, L, L, B, 1));  // no dropout: inference
    size_t weight_bytes = 0, work_bytes = 0;
    VSD_CUDNN_CHECK(cudnnGetMultiHeadAttnBuffers(h, attn, &weight_bytes, &work_bytes, nullptr));  // null: inference
    DevBuf w(weight_bytes), work(work_bytes);
    cuda::device_zero(w.p, weight_bytes);
    cudnnTensorDescriptor_t wd;
    VSD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&wd));
    const struct {
        cudnnMultiHeadAttnWeightKind_t kind;
        const float* src;
        bool bias;
    } parts[6] = {{CUDNN_MH_ATTN_Q_WEIGHTS, p.wq, false}, {CUDNN_MH_ATTN_K_WEIGHTS, p.wk, false},
                  {CUDNN_MH_ATTN_V_WEIGHTS, p.wv, false}, {CUDNN_MH_ATTN_Q_BIASES, p.bq, true},
                  {CUDNN_MH_ATTN_K_BIASES, p.bk, true},   {CUDNN_MH_ATTN_V_BIASES, p.bv, true}};
    for (const auto& part : parts) {
        void* addr = nullptr;
        VSD_CUDNN_CHECK(cudnnGetMultiHeadAttnWeights(h, attn, part.kind, weight_bytes, w.p, wd, &addr));
        if (part.bias) {  // (heads, d) in head-major order: our bias as it is
            ENSURE(numel_of(wd) == E, "cuDNN attention: a bias slot holds %lld values, expected %d",
                   (long long)numel_of(wd), E);
            cuda::copy_on_device(addr, part.src, (size_t)E * sizeof(float));
        } else {
            put_projection(static_cast<float*>(addr), wd, part.src, heads, d, E);
        }
    }
    VSD_CUDNN_CHECK(cudnnDestroyTensorDescriptor(wd));
    // the sequences: (B, beam 1, L, vector) in memory; queries and outputs all L rows, keys key_len[b]
    cudnnSeqDataDescriptor_t qd, kd, od;
    int dims[CUDNN_SEQDATA_DIM_COUNT];
    dims[CUDNN_SEQDATA_TIME_DIM] = L, dims[CUDNN_SEQDATA_BATCH_DIM] = B, dims[CUDNN_SEQDATA_BEAM_DIM] = 1;
    dims[CUDNN_SEQDATA_VECT_DIM] = E;
    cudnnSeqDataAxis_t axes[CUDNN_SEQDATA_DIM_COUNT] = {CUDNN_SEQDATA_BATCH_DIM, CUDNN_SEQDATA_BEAM_DIM,
                                                        CUDNN_SEQDATA_TIME_DIM, CUDNN_SEQDATA_VECT_DIM};
    std::vector<int> q_len(B, L), k_len(key_len);
    VSD_CUDNN_CHECK(cudnnCreateSeqDataDescriptor(&qd));
    VSD_CUDNN_CHECK(cudnnCreateSeqDataDescriptor(&kd));
    VSD_CUDNN_CHECK(cudnnCreateSeqDataDescriptor(&od));
    VSD_CUDNN_CHECK(cudnnSetSeqDataDescriptor(qd, CUDNN_DATA_FLOAT, 4, dims, axes, B, q_len.data(), nullptr));
    VSD_CUDNN_CHECK(cudnnSetSeqDataDescriptor(kd, CUDNN_DATA_FLOAT, 4, dims, axes, B, k_len.data(), nullptr));
    VSD_CUDNN_CHECK(cudnnSetSeqDataDescriptor(od, CUDNN_DATA_FLOAT, 4, dims, axes, B, q_len.data(), nullptr));
    DevBuf dq(B * sizeof(int)), dkv(B * sizeof(int));
    cuda::copy_to_device(dq.p, q_len.data(), B * sizeof(int));
    cuda::copy_to_device(dkv.p, k_len.data(), B * sizeof(int));
    std::vector<int> lo(L, 0), hi(L, L);  // every query sees the whole key window [0, L)
    VSD_CUDNN_CHECK(cudnnMultiHeadAttnForward(h, attn, -1, lo.data(), hi.data(), static_cast<const int*>(dq.p),
                                              static_cast<const int*>(dkv.p), qd, hs, nullptr, kd, hs, kd, hs, od, out,
                                              weight_bytes, w.p, work_bytes, work.p, 0, nullptr));
    VSD_CUDNN_CHECK(cudnnDestroySeqDataDescriptor(qd));
    VSD_CUDNN_CHECK(cudnnDestroySeqDataDescriptor(kd));
    VSD_CUDNN_CHECK(cudnnDestroySeqDataDescriptor(od));
    VSD_CUDNN_CHECK(cudnnDestroyAttnDescriptor(attn));
}

}  // namespace cudnn
}  // namespace vsd

#endif  // USE_CUDA
