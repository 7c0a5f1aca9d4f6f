#include "kmeans.h"

#include <algorithm>
#include <memory>
#include <cstdio>
#include <numeric>

#include "../../kernels/backend.h"  // cuda_available
#include "../../kernels/kmeans.h"
#include "../../kernels/memory_pool.h"
#include "../core/check.h"
#include "../core/progress.h"
#include "../core/rng.h"

namespace vsd {

static double sq_dist(const float* a, const float* b, int64_t D) {
    double s = 0;
    for (int64_t d = 0; d < D; d++) {
        double t = (double)a[d] - b[d];
        s += t * t;
    }
    return s;
}

std::vector<float> kmeans_plus_plus(const float* X, int64_t N, int64_t D, int64_t K, uint64_t seed) {
    ENSURE(K >= 1 && K <= N, "k-means: K = %lld needs 1 <= K <= N = %lld points", (long long)K, (long long)N);
    Rng rng(seed);
    std::vector<float> C(K * D);
    std::vector<double> d2(N);
    int64_t first = (int64_t)rng.randint(N);  // 1. the first centre uniformly at random
    std::copy(X + first * D, X + (first + 1) * D, C.begin());
#pragma omp parallel for
    for (int64_t n = 0; n < N; n++) d2[n] = sq_dist(X + n * D, C.data(), D);
    for (int64_t k = 1; k < K; k++) {
        // 2. the next centre with probability proportional to the squared distance to the nearest one
        double total = 0;
        for (int64_t n = 0; n < N; n++) total += d2[n];
        int64_t pick = 0;
        if (total > 0) {
            double u = rng.uniform_double() * total, c = 0;
            for (int64_t n = 0; n < N; n++) {
                c += d2[n];
                if (d2[n] > 0) pick = n;
                if (u < c && d2[n] > 0) break;
            }
        } else {
            pick = (int64_t)rng.randint(N);  // all points coincide with centres already
        }
        std::copy(X + pick * D, X + (pick + 1) * D, C.begin() + k * D);
#pragma omp parallel for
        for (int64_t n = 0; n < N; n++) d2[n] = std::min(d2[n], sq_dist(X + n * D, C.data() + k * D, D));
    }
    return C;
}

// The assignment and update steps on a device: the CUDA kernels of kernels/kmeans.cu, through the
// launchers of one namespace (vsd::cuda on a GPU, vsd::sim in the emulator). X stays on the device;
// centroids go up and assignments come back each iteration (the host re-seeds empty clusters).
struct DeviceSteps {
    virtual ~DeviceSteps() = default;
    virtual void assign(int64_t* assign, float* dist2, const float* C) = 0;
    // the update step for the assignment and centroids of the last assign() (still on the device:
    // the host re-seeds empty clusters only after update, and the next assign uploads again)
    virtual void update(float* C, int64_t* counts) = 0;
};

template <class Ns>
struct DeviceStepsT : DeviceSteps {
    int64_t N, K, D;
    float *X, *xn, *C, *dots, *cn, *sums, *cnt, *dist;
    int64_t* as;
    DeviceStepsT(const float* host_X, int64_t n, int64_t k, int64_t d) : N(n), K(k), D(d) {
        auto f = [](int64_t c) { return (float*)Ns::device_malloc(c * sizeof(float)); };
        X = f(N * D); xn = f(N); C = f(K * D); dots = f(N * K); cn = f(K); sums = f(K * D); cnt = f(K); dist = f(N);
        as = (int64_t*)Ns::device_malloc(N * sizeof(int64_t));
        Ns::copy_to_device(X, host_X, N * D * sizeof(float));
        Ns::sqnorm_rows(xn, X, N, D);
    }
    ~DeviceStepsT() override {
        for (void* p : {(void*)X, (void*)xn, (void*)C, (void*)dots, (void*)cn, (void*)sums, (void*)cnt, (void*)dist, (void*)as})
            Ns::device_free(p);
    }
    void assign(int64_t* assign_h, float* dist2_h, const float* C_h) override {
        Ns::copy_to_device(C, C_h, K * D * sizeof(float));
        Ns::kmeans_assign(as, dist, X, xn, C, dots, cn, N, K, D);
        Ns::copy_to_host(assign_h, as, N * sizeof(int64_t));
        Ns::copy_to_host(dist2_h, dist, N * sizeof(float));
    }
    void update(float* C_h, int64_t* counts_h) override {
        Ns::kmeans_update(C, cnt, sums, X, as, N, K, D);
        Ns::copy_to_host(C_h, C, K * D * sizeof(float));
        std::vector<float> c(K);
        Ns::copy_to_host(c.data(), cnt, K * sizeof(float));
        for (int64_t k = 0; k < K; k++) counts_h[k] = (int64_t)c[k];
    }
};

#define VSD_NS_FORWARD(NS, fn) template <class... A> static auto fn(A... a) { return NS::fn(a...); }
#define VSD_KMEANS_NS(Name, NS)                                                                                 \
    struct Name {                                                                                              \
        VSD_NS_FORWARD(NS, device_malloc) VSD_NS_FORWARD(NS, device_free) VSD_NS_FORWARD(NS, copy_to_device)   \
        VSD_NS_FORWARD(NS, copy_to_host) VSD_NS_FORWARD(NS, sqnorm_rows) VSD_NS_FORWARD(NS, kmeans_assign)     \
        VSD_NS_FORWARD(NS, kmeans_update)                                                                      \
    };
VSD_KMEANS_NS(SimNs, vsd::sim)
#ifdef USE_CUDA
VSD_KMEANS_NS(CudaNs, vsd::cuda)
#endif

static std::unique_ptr<DeviceSteps> device_steps(KMeansOptions::Device dev, const float* X, int64_t N, int64_t K, int64_t D) {
    using Dev = KMeansOptions::Device;
    if (dev == Dev::Emulator) return std::make_unique<DeviceStepsT<SimNs>>(X, N, K, D);
#ifdef USE_CUDA
    if ((dev == Dev::Auto || dev == Dev::Gpu) && cuda_available()) return std::make_unique<DeviceStepsT<CudaNs>>(X, N, K, D);
#endif
    ENSURE(dev != Dev::Gpu, "k-means: a GPU was requested but none is available. HINT: run on the CPU");
    return nullptr;  // the CPU kernels
}

KMeansResult kmeans(const float* X, int64_t N, int64_t D, const KMeansOptions& opt) {
    const int64_t K = opt.K;
    KMeansResult r;
    if (!opt.init.empty()) {
        ENSURE((int64_t)opt.init.size() == K * D, "k-means: the initial centroids hold %zu values, expected K x D = %lld",
               opt.init.size(), (long long)(K * D));
        r.centroids = opt.init;
    } else {
        r.centroids = kmeans_plus_plus(X, N, D, K, opt.seed);
    }
    std::vector<float> xn(N), dist2(N);
    const std::vector<float> origin(D, 0.0f);
    for (int64_t n = 0; n < N; n++) xn[n] = (float)sq_dist(X + n * D, origin.data(), D);  // ||x_n||^2
    r.assign.assign(N, -1);
    std::vector<int64_t> next(N), counts(K);
    std::unique_ptr<DeviceSteps> dev = device_steps(opt.device, X, N, K, D);
    if (opt.verbose)
        std::printf("k-means steps on the %s\n", dev ? (opt.device == KMeansOptions::Device::Emulator ? "CUDA emulator" : "GPU")
                                                      : "CPU (OpenMP)");
    Progress prog(strfmt("k-means K=%lld", (long long)K), opt.max_iter, 1);
    for (int it = 0; it < opt.max_iter; it++) {
        // assignment step
        if (dev) dev->assign(next.data(), dist2.data(), r.centroids.data());
        else kmeans_assign_cpu(next.data(), dist2.data(), X, xn.data(), r.centroids.data(), N, K, D);
        int64_t changed = 0;
        for (int64_t n = 0; n < N; n++) changed += next[n] != r.assign[n];
        r.assign = next;
        double inertia = 0;
        for (int64_t n = 0; n < N; n++) inertia += dist2[n];
        r.inertia.push_back(inertia);
        r.iterations = it + 1;
        if (opt.verbose) prog.update(it + 1, strfmt("inertia %.6g | %lld changed", inertia, (long long)changed));
        if (changed == 0) {
            r.converged = true;
            break;
        }
        // update step, then re-seed empty clusters from the points farthest from their centre
        if (dev) dev->update(r.centroids.data(), counts.data());
        else kmeans_update_cpu(r.centroids.data(), counts.data(), X, r.assign.data(), N, K, D);
        std::vector<int64_t> empty;
        for (int64_t k = 0; k < K; k++)
            if (counts[k] == 0) empty.push_back(k);
        if (!empty.empty()) {
            std::vector<int64_t> order(N);
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return dist2[a] > dist2[b]; });
            for (size_t e = 0; e < empty.size() && e < (size_t)N; e++) {
                const int64_t p = order[e];
                std::copy(X + p * D, X + (p + 1) * D, r.centroids.begin() + empty[e] * D);
                r.assign[p] = -1;  // forces its reassignment to count as a change
            }
            r.reseeded += (int)empty.size();
        }
    }
    if (opt.verbose)
        prog.finish(strfmt("inertia %.6g | %d iterations%s", r.inertia.back(), r.iterations,
                           r.converged ? ", converged" : ", stopped at --max_iter"));
    return r;
}

}  // namespace vsd
