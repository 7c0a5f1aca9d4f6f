// CUDA kernels against their CPU references: in the emulator (always; CI), and on a real GPU when
// one exists. Output buffers are poisoned with NaN first, so an element a kernel forgets to write
// fails the comparison. Sizes cover the edges: 1, 31, 32, 33, non-multiples of the block, empty rows.
#include <cstring>
#include <type_traits>

#include "../kernels/cuda_kernels.h"
#include "../kernels/gemm.h"
#include "../kernels/index.h"
#include "../kernels/norm.h"
#include "../kernels/reduce.h"
#include "../kernels/softmax.h"
#ifdef USE_CUDA
#include <cuda_runtime.h>
#endif
#include "helpers.h"

// ---- backends: device memory and the kernels' launchers ----------------------------------------
#define VSD_KERNEL_LIST(F)                                                                                 \
    F(l2norm_forward) F(l2norm_backward) F(rowsum_forward) F(softmax_forward) F(softmax_backward) F(unary_forward) \
    F(unary_backward) F(gemm) F(layernorm_forward) F(layernorm_backward) F(embedding_forward) F(embedding_backward)

struct Sim {
    static void* alloc(size_t bytes) { return std::malloc(bytes + 8); }
    static void free(void* p) { std::free(p); }
    static void up(void* d, const void* h, size_t bytes) { std::memcpy(d, h, bytes); }
    static void down(void* h, const void* d, size_t bytes) { std::memcpy(h, d, bytes); }
#define VSD_FORWARD(fn) template <class... A> static void fn(A... a) { vsd::sim::fn(a...); }
    VSD_KERNEL_LIST(VSD_FORWARD)
#undef VSD_FORWARD
};
#ifdef USE_CUDA
struct Gpu {
    static void* alloc(size_t bytes) { void* p; REQUIRE(cudaMalloc(&p, bytes + 8) == cudaSuccess); return p; }
    static void free(void* p) { cudaFree(p); }
    static void up(void* d, const void* h, size_t bytes) { cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice); }
    static void down(void* h, const void* d, size_t bytes) {
        cudaDeviceSynchronize();
        cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost);
    }
#define VSD_FORWARD(fn) template <class... A> static void fn(A... a) { vsd::cuda::fn(a...); }
    VSD_KERNEL_LIST(VSD_FORWARD)
#undef VSD_FORWARD
};
#endif

// A device buffer holding `h`, or `count` elements of NaN poison (float) / -1 (integers).
template <class Bk, class T = float>
struct Buf {
    T* d;
    int64_t n;
    explicit Buf(const std::vector<T>& h) : d((T*)Bk::alloc(h.size() * sizeof(T))), n((int64_t)h.size()) {
        Bk::up(d, h.data(), h.size() * sizeof(T));
    }
    explicit Buf(int64_t count) : Buf(std::vector<T>(count, std::is_floating_point<T>::value ? (T)NAN : (T)-1)) {}
    ~Buf() { Bk::free(d); }
    std::vector<T> get() const {
        std::vector<T> h(n);
        Bk::down(h.data(), d, n * sizeof(T));
        return h;
    }
};

static std::vector<float> randv(int64_t n, uint64_t seed, float lo = -1, float hi = 1) {
    Rng r(seed);
    std::vector<float> v(n);
    for (float& x : v) x = r.uniform(lo, hi);
    return v;
}

// |got - want| <= atol + rtol |want| everywhere; NaN (an unwritten element) always fails
static bool close(const std::vector<float>& got, const std::vector<float>& want, float atol, float rtol, std::string* why) {
    if (got.size() != want.size()) { *why = "size"; return false; }
    for (size_t i = 0; i < got.size(); i++) {
        bool same_inf = std::isinf(got[i]) && got[i] == want[i];
        if (!same_inf && !(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]))) {
            *why = strfmt("element %zu: got %.9g, want %.9g", i, got[i], want[i]);
            return false;
        }
    }
    return true;
}
#define CHECK_PARITY(got, want, atol, rtol)          \
    do {                                             \
        std::string why_;                            \
        CHECK_MESSAGE(close(got, want, atol, rtol, &why_), why_); \
    } while (0)

// ---- the tests, one template per kernel file ----------------------------------------------------
template <class Bk>
void parity_l2norm() {
    for (int v : {1, 2})
        for (int64_t rows : {1, 5, 33})
            for (int64_t n : {1, 31, 32, 33, 300}) {
                CAPTURE(v); CAPTURE(rows); CAPTURE(n);
                std::vector<float> x = randv(rows * n, 1 + n), dy = randv(rows * n, 2 + n);
                if (rows > 2) std::fill(x.begin() + n, x.begin() + 2 * n, 0.0f);  // a zero row
                std::vector<float> y(rows * n), nr(rows), dx(rows * n, 0.5f);
                l2norm_forward_cpu(y.data(), nr.data(), x.data(), rows, n, 1e-8f);
                l2norm_backward_cpu(dx.data(), dy.data(), x.data(), nr.data(), rows, n, 1e-8f);
                Buf<Bk> X(x), Y(rows * n), N(rows), DY(dy), DX(std::vector<float>(rows * n, 0.5f));
                Bk::l2norm_forward(Y.d, N.d, X.d, rows, n, 1e-8f, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(N.get(), nr, 1e-6f, 1e-5f);
                Bk::l2norm_backward(DX.d, DY.d, X.d, N.d, rows, n, 1e-8f);
                CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);  // accumulates into 0.5, as the CPU does
            }
}

template <class Bk>
void parity_rowsum() {
    for (int v : {1, 2, 3})
        for (int64_t rows : {1, 3, 40})
            for (int64_t n : {0, 1, 31, 32, 33, 127, 128, 129, 1000}) {
                CAPTURE(v); CAPTURE(rows); CAPTURE(n);
                // small integers: every summation order gives the same exact result
                std::vector<float> x(rows * n);
                Rng r(n + rows);
                for (float& e : x) e = (float)((int)r.randint(9) - 4);
                std::vector<float> y(rows);
                sum_dim_forward_cpu(y.data(), x.data(), rows, n, 1, 1.0f);
                Buf<Bk> X(x), Y(rows);
                Bk::rowsum_forward(Y.d, X.d, rows, n, 1.0f, v);
                CHECK_PARITY(Y.get(), y, 0.0f, 0.0f);  // exact
            }
}

template <class Bk>
void parity_softmax() {
    for (int v : {1, 2})
        for (bool lg : {false, true})
            for (int64_t n : {1, 31, 32, 33, 100}) {
                CAPTURE(v); CAPTURE(lg); CAPTURE(n);
                const int64_t rows = 6;
                std::vector<float> x = randv(rows * n, n, -4, 4), m(rows * n, 1.0f);
                for (int64_t k = 0; k < n; k += 3) m[2 * n + k] = 0.0f;  // a partly masked row
                for (int64_t k = 0; k < n; k++) m[4 * n + k] = 0.0f;     // a fully masked row
                std::vector<float> y(rows * n), y2(rows * n);
                softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
                softmax_forward_cpu(y2.data(), x.data(), nullptr, rows, n, lg);
                Buf<Bk> X(x), M(m), Y(rows * n), Y2(rows * n);
                Bk::softmax_forward(Y.d, X.d, M.d, rows, n, lg, v);
                Bk::softmax_forward(Y2.d, X.d, nullptr, rows, n, lg, v);
                CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
                CHECK_PARITY(Y2.get(), y2, 1e-6f, 1e-5f);
            }
}

template <class Bk>
void parity_unary() {
    const Unary ops[] = {Unary::Exp, Unary::Log, Unary::Sqrt, Unary::Abs, Unary::Relu, Unary::LeakyRelu, Unary::Gelu,
                         Unary::Tanh, Unary::Sigmoid, Unary::Pow, Unary::Clamp, Unary::AddScalar, Unary::MulScalar};
    for (Unary op : ops)
        for (int64_t n : {1, 255, 256, 257, 3000}) {
            CAPTURE(unary_name(op)); CAPTURE(n);
            bool positive = op == Unary::Log || op == Unary::Sqrt || op == Unary::Pow;
            std::vector<float> x = randv(n, n, positive ? 0.1f : -3.0f, 3.0f), dy = randv(n, n + 1);
            const float a = op == Unary::Clamp ? -0.5f : 0.3f, b = 0.7f;
            std::vector<float> y(n), dx(n, 0.25f);
            unary_forward_cpu(op, y.data(), x.data(), n, a, b);
            unary_backward_cpu(op, dx.data(), dy.data(), x.data(), y.data(), n, a, b);
            Buf<Bk> X(x), Y(n), DY(dy), DX(std::vector<float>(n, 0.25f));
            Bk::unary_forward(op, Y.d, X.d, n, a, b);
            CHECK_PARITY(Y.get(), y, 1e-6f, 1e-5f);
            Buf<Bk> Yc(y);  // the backward reads the forward output: give it the reference's
            Bk::unary_backward(op, DX.d, DY.d, X.d, Yc.d, n, a, b);
            CHECK_PARITY(DX.get(), dx, 1e-6f, 1e-5f);
        }
}

template <class Bk>
void parity_gemm() {
    const int64_t sizes[][3] = {{1, 1, 1}, {1, 33, 7}, {17, 1, 16}, {31, 32, 33}, {40, 17, 70}};
    for (int v : {1, 2, 3})
        for (auto& s : sizes)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    const int64_t M = s[0], N = s[1], K = s[2];
                    CAPTURE(v); CAPTURE(M); CAPTURE(N); CAPTURE(K); CAPTURE(ta); CAPTURE(tb);
                    std::vector<float> A(M * K), B(K * N), C0(M * N);
                    Rng r(M * 100 + N * 10 + K);
                    for (float& e : A) e = (float)((int)r.randint(7) - 3);  // integers: exact in any order
                    for (float& e : B) e = (float)((int)r.randint(7) - 3);
                    for (float& e : C0) e = (float)((int)r.randint(5) - 2);
                    for (float beta : {0.0f, 2.0f}) {
                        std::vector<float> C = C0;
                        gemm_naive_cpu(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N);
                        Buf<Bk> dA(A), dB(B), dC(beta == 0.0f ? std::vector<float>(M * N, NAN) : C0);
                        Bk::gemm((bool)ta, (bool)tb, M, N, K, 1.0f, dA.d, ta ? M : K, dB.d, tb ? K : N, beta, dC.d, N, v);
                        CHECK_PARITY(dC.get(), C, 0.0f, 0.0f);  // exact; NaN in C must not leak when beta = 0
                    }
                }
}

template <class Bk>
void parity_more() {
    // softmax backward, both forms, with a partly masked row
    for (bool lg : {false, true})
        for (int64_t n : {1, 31, 33, 100}) {
            CAPTURE(lg); CAPTURE(n);
            const int64_t rows = 5;
            std::vector<float> x = randv(rows * n, n, -3, 3), dy = randv(rows * n, n + 7), m(rows * n, 1.0f);
            for (int64_t k = 0; k < n; k += 2) m[n + k] = 0.0f;
            std::vector<float> y(rows * n), dx(rows * n, 0.5f);
            softmax_forward_cpu(y.data(), x.data(), m.data(), rows, n, lg);
            softmax_backward_cpu(dx.data(), dy.data(), y.data(), m.data(), rows, n, lg);
            Buf<Bk> Y(y), DY(dy), M(m), DX(std::vector<float>(rows * n, 0.5f));
            Bk::softmax_backward(DX.d, DY.d, Y.d, M.d, rows, n, lg);
            CHECK_PARITY(DX.get(), dx, 1e-5f, 1e-4f);
        }
    // layernorm forward and backward
    for (int64_t rows : {1, 7})
        for (int64_t n : {1, 32, 33, 768}) {
            CAPTURE(rows); CAPTURE(n);
            std::vector<float> x = randv(rows * n, n, -2, 2), w = randv(n, n + 1, 0.5f, 1.5f), b = randv(n, n + 2);
            std::vector<float> dy = randv(rows * n, n + 3);
            std::vector<float> y(rows * n), mean(rows), rstd(rows), dx(rows * n, 0.0f), dw(n, 0.0f), db(n, 0.0f);
            layernorm_forward_cpu(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, n, 1e-5f);
            layernorm_backward_cpu(dx.data(), dw.data(), db.data(), dy.data(), x.data(), mean.data(), rstd.data(), w.data(), rows, n);
            Buf<Bk> X(x), W(w), B(b), Y(rows * n), MEAN(rows), RSTD(rows), DY(dy);
            Buf<Bk> DX(std::vector<float>(rows * n, 0.0f)), DW(std::vector<float>(n, 0.0f)), DB(std::vector<float>(n, 0.0f));
            Bk::layernorm_forward(Y.d, MEAN.d, RSTD.d, X.d, W.d, B.d, rows, n, 1e-5f);
            CHECK_PARITY(Y.get(), y, 1e-5f, 1e-4f);
            CHECK_PARITY(RSTD.get(), rstd, 1e-5f, 1e-4f);
            Bk::layernorm_backward(DX.d, DW.d, DB.d, DY.d, X.d, MEAN.d, RSTD.d, W.d, rows, n);
            CHECK_PARITY(DX.get(), dx, 1e-4f, 1e-3f);
            CHECK_PARITY(DW.get(), dw, 1e-4f, 1e-3f);
            CHECK_PARITY(DB.get(), db, 1e-4f, 1e-3f);
        }
    // embedding: forward gather, backward scatter-add with a repeated id
    for (int64_t D : {1, 31, 128, 300}) {
        CAPTURE(D);
        const int64_t V = 9, rows = 6;
        std::vector<float> table = randv(V * D, D), dout = randv(rows * D, D + 1);
        std::vector<int64_t> ids = {3, 0, 8, 3, 5, 3};  // id 3 three times
        std::vector<float> out(rows * D), dt(V * D, 0.25f);
        embedding_forward_cpu(out.data(), table.data(), ids.data(), rows, D);
        embedding_backward_cpu(dt.data(), dout.data(), ids.data(), rows, D);
        Buf<Bk> T(table), O(rows * D), DO(dout), DT(std::vector<float>(V * D, 0.25f));
        Buf<Bk, int64_t> I(ids);
        Bk::embedding_forward(O.d, T.d, I.d, rows, D);
        CHECK_PARITY(O.get(), out, 0.0f, 0.0f);  // a copy: exact
        Bk::embedding_backward(DT.d, DO.d, I.d, rows, D);
        CHECK_PARITY(DT.get(), dt, 1e-6f, 1e-5f);  // atomics: any order
    }
}

TEST_CASE("emulator parity: l2norm forward (v1, v2) and backward") { parity_l2norm<Sim>(); }
TEST_CASE("emulator parity: softmax backward, layernorm forward/backward, embedding forward/backward") { parity_more<Sim>(); }
TEST_CASE("emulator parity: row sums (v1 serial, v2 shared-memory tree, v3 warp shuffles)") { parity_rowsum<Sim>(); }
TEST_CASE("emulator parity: softmax and log-softmax (v1, v2), masks, fully masked rows") { parity_softmax<Sim>(); }
TEST_CASE("emulator parity: every unary op, forward and backward") { parity_unary<Sim>(); }
TEST_CASE("emulator parity: GEMM naive, tiled and cuBLAS (column-major emulation), all transposes") { parity_gemm<Sim>(); }

#ifdef USE_CUDA
static bool no_gpu() {
    if (cuda_available()) return false;
    std::fprintf(stderr, "note: no GPU: skipping the GPU parity tests (the emulator ran the same kernels)\n");
    return true;
}
TEST_CASE("GPU parity: l2norm" * doctest::skip(no_gpu())) { parity_l2norm<Gpu>(); }
TEST_CASE("GPU parity: row sums" * doctest::skip(no_gpu())) { parity_rowsum<Gpu>(); }
TEST_CASE("GPU parity: softmax" * doctest::skip(no_gpu())) { parity_softmax<Gpu>(); }
TEST_CASE("GPU parity: unary ops" * doctest::skip(no_gpu())) { parity_unary<Gpu>(); }
TEST_CASE("GPU parity: GEMM" * doctest::skip(no_gpu())) { parity_gemm<Gpu>(); }
TEST_CASE("GPU parity: softmax backward, layernorm, embedding" * doctest::skip(no_gpu())) { parity_more<Gpu>(); }
#endif

TEST_CASE("memory pool: blocks are reused by size, statistics add up, the cache empties") {
    using namespace vsd::sim;
    pool_empty_cache();
    const PoolStats s0 = pool_stats();
    void* a = pool_alloc(1000);   // rounds to 1024
    void* b = pool_alloc(3 << 20); // rounds to 3 MiB
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes + 1024 + (3u << 20));
    pool_free(a);
    CHECK(pool_stats().cached_bytes == 1024);
    void* c = pool_alloc(600);    // 1024 again: reused, no new cudaMalloc
    CHECK(c == a);
    CHECK(pool_stats().hits == s0.hits + 1);
    CHECK(pool_stats().mallocs == s0.mallocs + 2);
    void* d = pool_alloc(2000);   // 2048: a different size, a new block
    CHECK(pool_stats().mallocs == s0.mallocs + 3);
    pool_free(b);
    pool_free(c);
    pool_free(d);
    CHECK(pool_stats().in_use_bytes == s0.in_use_bytes);
    CHECK(pool_stats().peak_bytes >= 1024 + (3u << 20) + 2048);
    CHECK(pool_stats_str().find("cudaMalloc calls") != std::string::npos);
    pool_empty_cache();
    CHECK(pool_stats().cached_bytes == 0);
    CHECK_THROWS_WITH(pool_free(a), doctest::Contains("was not allocated by the pool"));
}
