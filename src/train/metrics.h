// metrics.h — image-text retrieval metrics exactly as the reference's evaluation.py (paper-notes §5).
//
// sims: (N_img, N_cap) similarity matrix, caption c belongs to image c / per (per = 5).
//   i2t: for image i, rank_i = min over its captions of their 0-based position in sims[i] sorted
//        descending;   t2i: for caption c, rank_c = position of image c / per in sims[:, c] sorted
//   R@K = 100 * #{rank < K} / count;   medr = floor(median(rank)) + 1;   meanr = mean(rank) + 1
//   rsum = R@1 + R@5 + R@10 of both directions
// Ties: the reference sorts with numpy's argsort(...)[::-1], whose order among equal scores is an
// artefact of numpy's (unstable) quicksort. We fix it as a stable ascending sort reversed would:
// among equal scores, the higher index comes first.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vsd {

struct DirectionMetrics {
    double r1 = 0, r5 = 0, r10 = 0, medr = 0, meanr = 0;
};
struct RetrievalMetrics {
    DirectionMetrics i2t, t2i;
    double rsum = 0;
};

RetrievalMetrics retrieval_metrics(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per = 5);

// The ranks behind the metrics (0-based): i2t per image (its best caption), t2i per caption.
struct QueryRanks {
    std::vector<int64_t> i2t, t2i;
};
QueryRanks query_ranks(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per = 5);
// the metrics of given ranks (retrieval_metrics above is this of query_ranks)
RetrievalMetrics retrieval_metrics(const QueryRanks& q);
// The k best of n scores (scores[j * stride]), best first, in the ranks' order (ties: higher index first).
std::vector<int64_t> top_k(const double* scores, int64_t stride, int64_t n, int64_t k);
// COCO 1K protocol: 5 folds of 1000 images (5000 captions); every metric averaged over the folds.
RetrievalMetrics retrieval_metrics_5fold(const std::vector<double>& sims, int64_t n_img, int64_t n_cap, int per = 5);

// "i2t R@1 R@5 R@10 | t2i R@1 R@5 R@10 | rsum" in the paper's layout, and a JSON object.
std::string metrics_table(const std::string& title, const RetrievalMetrics& m);
std::string metrics_json(const RetrievalMetrics& m);

}  // namespace vsd
