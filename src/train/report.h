// report.h — the evaluation report: one self-contained HTML file (no script, no external asset)
// written next to eval_<split>.json. It shows
//   the paper-layout recall table (and COCO's 5-fold 1K row),
//   R@K curves of both directions (inline SVG, K = 1 .. N on a log axis),
//   the histogram of the correct item's rank,
//   a gallery of sampled queries: captions with their top-5 images (the correct one marked),
//   images with their top-5 captions (the correct ones marked),
//   the worst failures: the queries whose correct item ranked lowest,
//   and the run's training curves (curves.svg) when the run folder has them.
// Images are thumbnails (data: URIs of the files themselves) when the dataset folder has them,
// otherwise cards with the image's id, file name and first caption.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "metrics.h"

namespace vsd {

struct ReportData {
    std::string title, split, model;
    RetrievalMetrics full, fold5;
    bool has_fold5 = false;
    std::vector<double> sims;              // (n_img, n_cap)
    QueryRanks ranks;                      // query_ranks(sims) when already computed; empty: computed here
    int64_t n_img = 0, n_cap = 0;
    int per = 5;
    std::vector<std::string> captions;     // n_cap, or empty (ensembles of saved matrices)
    std::vector<std::string> image_names;  // n_img file names (ids.txt through id_mapping.json), or empty
    std::vector<std::string> image_files;  // n_img image paths ("" where absent): read only for the cards shown
    std::vector<std::string> image_uris;   // or ready data: URIs (n_img, "" where none), which take precedence
    std::string curves_svg;                // the run's curves.svg, or empty
    uint64_t seed = 0;                     // which queries the gallery samples
};

std::string html_report(const ReportData& d);

// "data:<mime>;base64,..." of a file, or "" when it is absent, unreadable or above max_bytes
std::string data_uri(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace vsd
