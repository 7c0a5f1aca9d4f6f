#include "metrics.h"

#include <algorithm>
#include <cmath>

#include "../core/check.h"

namespace vsd {

// 0-based position of `target` in `scores` sorted descending (ties: higher index first).
static int64_t rank_of(const double* scores, int64_t stride, int64_t n, int64_t target) {
    const double t = scores[target * stride];
    int64_t r = 0;
    for (int64_t j = 0; j < n; j++) {
        double v = scores[j * stride];
        if (v > t || (v == t && j > target)) r++;
    }
    return r;
}

static DirectionMetrics summarise(std::vector<int64_t> ranks) {
    DirectionMetrics d;
    const double n = (double)ranks.size();
    double s = 0;
    for (int64_t r : ranks) {
        d.r1 += r < 1;
        d.r5 += r < 5;
        d.r10 += r < 10;
        s += (double)r;
    }
    d.r1 *= 100.0 / n;
    d.r5 *= 100.0 / n;
    d.r10 *= 100.0 / n;
    std::sort(ranks.begin(), ranks.end());
    size_t m = ranks.size();
    double median = m % 2 ? (double)ranks[m / 2] : 0.5 * ((double)ranks[m / 2 - 1] + (double)ranks[m / 2]);
    d.medr = std::floor(median) + 1.0;
    d.meanr = s / n + 1.0;
    return d;
}

QueryRanks query_ranks(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per) {
    ENSURE((int64_t)sims.size() == n_img * n_cap && n_cap == per * n_img && n_img > 0,
           "retrieval_metrics: expected an (N, %d N) matrix, got %zu values for N_img %lld and N_cap %lld", per, sims.size(),
           (long long)n_img, (long long)n_cap);
    // a NaN similarity would rank first (every comparison with it is false): refuse, and say where
    for (size_t k = 0; k < sims.size(); k++)
        ENSURE_HINT(std::isfinite(sims[k]), "the model or its inputs produced NaN/Inf; check them with tools/npy_inspect",
                    "retrieval_metrics: similarity of image %lld and caption %lld is %g (not finite)",
                    (long long)(k / n_cap), (long long)(k % n_cap), sims[k]);
    QueryRanks q;
    q.i2t.resize(n_img);
    q.t2i.resize(n_cap);
    for (int64_t i = 0; i < n_img; i++) {  // i2t: best rank of the image's captions
        int64_t best = INT64_MAX;
        for (int64_t c = per * i; c < per * (i + 1); c++) best = std::min(best, rank_of(&sims[i * n_cap], 1, n_cap, c));
        q.i2t[i] = best;
    }
    for (int64_t c = 0; c < n_cap; c++) q.t2i[c] = rank_of(&sims[c], n_cap, n_img, c / per);  // t2i: column c
    return q;
}

std::vector<int64_t> top_k(const double* scores, int64_t stride, int64_t n, int64_t k) {
    std::vector<int64_t> idx(n);
    for (int64_t j = 0; j < n; j++) idx[j] = j;
    k = std::min(k, n);
    // the order of rank_of: higher score first, and among equal scores the higher index
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
        const double va = scores[a * stride], vb = scores[b * stride];
        return va > vb || (va == vb && a > b);
    });
    idx.resize(k);
    return idx;
}

RetrievalMetrics retrieval_metrics(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per) {
    return retrieval_metrics(query_ranks(sims, n_img, n_cap, per));
}

RetrievalMetrics retrieval_metrics(const QueryRanks& q) {
    RetrievalMetrics m;
    m.i2t = summarise(q.i2t);
    m.t2i = summarise(q.t2i);
    m.rsum = m.i2t.r1 + m.i2t.r5 + m.i2t.r10 + m.t2i.r1 + m.t2i.r5 + m.t2i.r10;
    return m;
}

RetrievalMetrics retrieval_metrics_5fold(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per) {
    ENSURE(n_img % 5 == 0, "5-fold evaluation needs a multiple of 5 images, got %lld", (long long)n_img);
    const int64_t fi = n_img / 5, fc = n_cap / 5;
    RetrievalMetrics avg;
    for (int f = 0; f < 5; f++) {
        std::vector<double> sub(fi * fc);
        for (int64_t i = 0; i < fi; i++)
            for (int64_t c = 0; c < fc; c++) sub[i * fc + c] = sims[(f * fi + i) * n_cap + f * fc + c];
        RetrievalMetrics m = retrieval_metrics(sub, fi, fc, per);
        for (auto [a, b] : {std::pair<DirectionMetrics*, DirectionMetrics*>{&avg.i2t, &m.i2t}, {&avg.t2i, &m.t2i}}) {
            a->r1 += b->r1 / 5; a->r5 += b->r5 / 5; a->r10 += b->r10 / 5; a->medr += b->medr / 5; a->meanr += b->meanr / 5;
        }
        avg.rsum += m.rsum / 5;
    }
    return avg;
}

std::string metrics_table(const std::string& title, const RetrievalMetrics& m) {
    std::string s = strfmt("%-20s | %6s %6s %6s | %6s %6s %6s | %7s\n", "", "i2t R@1", "R@5", "R@10", "t2i R@1", "R@5", "R@10", "rsum");
    s += strfmt("%-20s | %7.1f %6.1f %6.1f | %7.1f %6.1f %6.1f | %7.1f\n", title.c_str(), m.i2t.r1, m.i2t.r5, m.i2t.r10,
                m.t2i.r1, m.t2i.r5, m.t2i.r10, m.rsum);
    s += strfmt("%-20s   medr %.1f meanr %.1f (i2t), medr %.1f meanr %.1f (t2i)\n", "", m.i2t.medr, m.i2t.meanr, m.t2i.medr,
                m.t2i.meanr);
    return s;
}

std::string metrics_json(const RetrievalMetrics& m) {
    auto dir = [](const DirectionMetrics& d) {
        return strfmt("{\"r1\": %.4f, \"r5\": %.4f, \"r10\": %.4f, \"medr\": %.4f, \"meanr\": %.4f}", d.r1, d.r5, d.r10,
                      d.medr, d.meanr);
    };
    return "{\"i2t\": " + dir(m.i2t) + ", \"t2i\": " + dir(m.t2i) + strfmt(", \"rsum\": %.4f}", m.rsum);
}

}  // namespace vsd
