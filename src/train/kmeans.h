// kmeans.h — k-means for the VSD prototypes (paper-notes §1.4): k-means++ initialisation, Lloyd iterations
// until no assignment changes (or max_iter), empty clusters re-seeded from the farthest points,
// all from a seed. The reference computed its centroids offline with an unknown library; this is
// ours, checked on Gaussian blobs and against an independent implementation.
#pragma once
#include <cstdint>
#include <vector>

namespace vsd {

struct KMeansOptions {
    int64_t K = 8;
    int max_iter = 100;
    uint64_t seed = 0;
    bool verbose = false;  // one progress line per iteration: inertia and changed assignments
    std::vector<float> init;  // (K, D) initial centroids; empty = k-means++ from `seed`
    // where the assignment and update steps run: Auto = the GPU when there is one, else the CPU;
    // Emulator = the CUDA kernels in the CPU emulator (tests)
    enum class Device { Auto, Cpu, Gpu, Emulator } device = Device::Auto;
};

struct KMeansResult {
    std::vector<float> centroids;   // (K, D)
    std::vector<int64_t> assign;    // (N,)
    std::vector<double> inertia;    // after every iteration (sum of squared distances)
    int iterations = 0;
    bool converged = false;         // the last iteration changed no assignment
    int reseeded = 0;               // empty clusters re-seeded over the run
};

// X: (N, D) row-major
KMeansResult kmeans(const float* X, int64_t N, int64_t D, const KMeansOptions& opt);
// k-means++ seeding alone (exposed for tests): K distinct rows chosen with prob. ~ D(x)^2
std::vector<float> kmeans_plus_plus(const float* X, int64_t N, int64_t D, int64_t K, uint64_t seed);

}  // namespace vsd
