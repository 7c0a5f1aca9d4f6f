// kernel_parity.h — kernel-level parity: a kernel's launcher against its CPU reference, called
// directly with raw device buffers (for what the op-level test cannot reach: every rung of a
// version ladder at sizes the ops never pick, kernels with no op, exact-arithmetic checks).
// Output buffers are poisoned with NaN first, so an element a kernel forgets to write fails.
//
//     template <class Bk> void parity_softmax() { ... VSD_RUN(Bk{}, softmax_forward)(...); ... }
//     KERNEL_PARITY(parity_softmax, "softmax and log-softmax (v1, v2), ...")
//
// registers one test that runs the family on the emulator, and on the GPU when there is one.
#pragma once
#include <cstring>
#include <type_traits>

#include "../../kernels/backend.h"
#include "../../kernels/elementwise.h"  // Broadcast
#ifdef USE_CUDA
#include <cuda_runtime.h>
#endif
#include "../helpers.h"

// ---- backends: device memory and the kernels' launchers ----------------------------------------
struct Sim {
    static void* alloc(size_t bytes) { return std::malloc(bytes + 8); }
    static void free(void* p) { std::free(p); }
    static void up(void* d, const void* h, size_t bytes) { if (bytes) std::memcpy(d, h, bytes); }
    static void down(void* h, const void* d, size_t bytes) { if (bytes) std::memcpy(h, d, bytes); }
    static constexpr bool gpu = false;  // VSD_RUN(Bk{}, name) picks vsd::sim::name
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
    static constexpr bool gpu = true;  // VSD_RUN(Bk{}, name) picks vsd::cuda::name
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

inline std::vector<float> randv(int64_t n, uint64_t seed, float lo = -1, float hi = 1) {
    Rng r(seed);
    std::vector<float> v(n);
    for (float& x : v) x = r.uniform(lo, hi);
    return v;
}

// |got - want| <= atol + rtol |want| everywhere; NaN (an unwritten element) always fails
inline bool close(const std::vector<float>& got, const std::vector<float>& want, float atol, float rtol, std::string* why) {
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

// the 4-d broadcast frame of two shapes (as make_broadcast in src/ops builds it)
inline Broadcast frame(Shape a, Shape b) {
    Broadcast bc;
    int64_t sa = 1, sb = 1;
    for (int k = 0; k < 4; k++) {
        int fd = 3 - k;
        int64_t da = k < (int)a.size() ? a[a.size() - 1 - k] : 1, db = k < (int)b.size() ? b[b.size() - 1 - k] : 1;
        bc.shape[fd] = std::max(da, db);
        bc.sa[fd] = da == 1 ? 0 : sa;
        bc.sb[fd] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    return bc;
}

// Each family is registered once and runs on every backend: the emulator always, the GPU when
// there is one (then the same kernels compiled by nvcc).
template <template <class> class Fam>
static void on_every_backend() {
    {
        const char* backend = "emulator";
        CAPTURE(backend);
        Fam<Sim>::run();
    }
#ifdef USE_CUDA
    if (cuda_available()) {
        const char* backend = "GPU";
        CAPTURE(backend);
        Fam<Gpu>::run();
    }
#endif
}
#define KERNEL_PARITY(FAM, WHAT)                                  \
    template <class Bk> struct FAM##_family { static void run() { FAM<Bk>(); } }; \
    TEST_CASE("kernel parity: " WHAT) { on_every_backend<FAM##_family>(); }
