#include "kmeans.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "../../kernels/kmeans.h"
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
    Progress prog(strfmt("k-means K=%lld", (long long)K), opt.max_iter, 1);
    for (int it = 0; it < opt.max_iter; it++) {
        // assignment step
        kmeans_assign_cpu(next.data(), dist2.data(), X, xn.data(), r.centroids.data(), N, K, D);
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
        kmeans_update_cpu(r.centroids.data(), counts.data(), X, r.assign.data(), N, K, D);
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
