// report.cpp — the self-contained HTML evaluation report (report.h).
#include "report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "../core/check.h"
#include "../core/rng.h"
#include "svg.h"

namespace vsd {

namespace {

std::string base64(const std::string& in) {
    static const char* A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {  // 3 bytes -> 4 characters of 6 bits
        const uint32_t v = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8 | (uint8_t)in[i + 2];
        o += A[v >> 18], o += A[(v >> 12) & 63], o += A[(v >> 6) & 63], o += A[v & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t v = (uint8_t)in[i] << 16;
        o += A[v >> 18], o += A[(v >> 12) & 63], o += "==";
    } else if (i + 2 == in.size()) {
        const uint32_t v = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8;
        o += A[v >> 18], o += A[(v >> 12) & 63], o += A[(v >> 6) & 63], o += '=';
    }
    return o;
}

const char* kStyle = R"(
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1280px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ccc; }
table.m { border-collapse: collapse; } table.m td, table.m th { padding: 4px 10px; text-align: right; border-bottom: 1px solid #eee; }
table.m th:first-child, table.m td:first-child { text-align: left; }
.q { margin: 14px 0; padding: 10px; background: #fafafa; border: 1px solid #e4e4e4; }
.q .text { font-weight: bold; margin-bottom: 6px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; }
.card { width: 150px; border: 2px solid #ddd; padding: 4px; font-size: 11px; background: #fff; }
.card.hit { border-color: #2ca02c; background: #eefaee; }
.card img { width: 150px; height: 110px; object-fit: cover; display: block; }
.card .ph { width: 150px; height: 60px; background: #e8e8f0; display: flex; align-items: center; justify-content: center; color: #557; }
.caps li { margin: 2px 0; } .caps li.hit { color: #1a7f1a; font-weight: bold; }
.hist td { padding: 2px 8px; font-size: 12px; } .bar { height: 12px; background: #1f77b4; display: inline-block; }
.note { color: #666; font-size: 12px; }
)";

std::string rank_text(int64_t r) { return r == 0 ? "rank 1 (correct first)" : strfmt("correct at rank %lld", (long long)r + 1); }

}  // namespace

std::string data_uri(const std::string& path, size_t max_bytes) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);  // the size first: a big file is not read
    if (!in || in.tellg() <= 0 || (size_t)in.tellg() > max_bytes) return "";
    in.seekg(0);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    if (bytes.empty() || bytes.size() > max_bytes) return "";
    const std::string ext = path.substr(path.rfind('.') + 1);
    const std::string mime = ext == "png" ? "image/png" : ext == "svg" ? "image/svg+xml" : "image/jpeg";
    return "data:" + mime + ";base64," + base64(bytes);
}

std::string html_report(const ReportData& d) {
    const QueryRanks q = d.ranks.i2t.empty() ? query_ranks(d.sims, d.n_img, d.n_cap, d.per) : d.ranks;
    // a thumbnail: a given URI, or the image file read when its card is first shown
    std::map<int64_t, std::string> uris;
    auto uri_of = [&](int64_t i) -> const std::string& {
        auto it = uris.find(i);
        if (it != uris.end()) return it->second;
        std::string u = i < (int64_t)d.image_uris.size() ? d.image_uris[i] : "";
        if (u.empty() && i < (int64_t)d.image_files.size() && !d.image_files[i].empty()) u = data_uri(d.image_files[i]);
        return uris[i] = u;
    };
    auto caption = [&](int64_t c) { return c < (int64_t)d.captions.size() ? d.captions[c] : strfmt("caption %lld", (long long)c); };
    auto image_card = [&](int64_t i, bool hit, double score) {
        std::string h = std::string("<div class=\"card") + (hit ? " hit" : "") + "\">";
        const std::string& uri = uri_of(i);
        const std::string name = i < (int64_t)d.image_names.size() ? d.image_names[i] : "";
        if (!uri.empty()) h += "<img src=\"" + uri + "\" alt=\"" + xml_escape(name) + "\">";
        else h += strfmt("<div class=\"ph\">image %lld</div>", (long long)i);
        h += strfmt("<div>#%lld %s%s</div>", (long long)i, xml_escape(name).c_str(), hit ? " ✔" : "");
        if (std::isfinite(score)) h += strfmt("<div>score %.3f</div>", score);
        if (uri.empty() && !d.captions.empty())  // no picture: say what the image shows through its first caption
            h += "<div class=\"note\">" + xml_escape(caption(i * d.per)) + "</div>";
        return h + "</div>";
    };
    auto t2i_query = [&](int64_t c) {  // a caption, its top-5 images, the correct one marked
        const int64_t gt = c / d.per;
        std::string h = "<div class=\"q\"><div class=\"text\">“" + xml_escape(caption(c)) + "”</div>";
        h += strfmt("<div class=\"note\">caption %lld of image %lld: %s</div><div class=\"row\">", (long long)c,
                    (long long)gt, rank_text(q.t2i[c]).c_str());
        for (int64_t i : top_k(&d.sims[c], d.n_cap, d.n_img, 5)) h += image_card(i, i == gt, d.sims[i * d.n_cap + c]);
        if (q.t2i[c] >= 5) h += "<div style=\"align-self:center\">…</div>" + image_card(gt, true, d.sims[gt * d.n_cap + c]);
        return h + "</div></div>\n";
    };
    auto i2t_query = [&](int64_t i) {  // an image, its top-5 captions, the correct ones marked
        std::string h = "<div class=\"q\"><div class=\"row\">" + image_card(i, false, NAN);
        h += strfmt("<div><div class=\"note\">image %lld: %s</div><ol class=\"caps\">", (long long)i, rank_text(q.i2t[i]).c_str());
        for (int64_t c : top_k(&d.sims[i * d.n_cap], 1, d.n_cap, 5)) {
            const bool hit = c / d.per == i;
            h += std::string("<li") + (hit ? " class=\"hit\"" : "") + ">" + xml_escape(caption(c)) +
                 strfmt(" <span class=\"note\">(%.3f%s)</span></li>", d.sims[i * d.n_cap + c], hit ? ", correct" : "");
        }
        return h + "</ol></div></div></div>\n";
    };

    std::string h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + xml_escape(d.title) +
                    "</title><style>" + kStyle + "</style></head><body>\n";
    h += "<h1>" + xml_escape(d.title) + "</h1>\n<p>" + xml_escape(d.model) + "</p>\n";
    h += strfmt("<p>%lld images, %lld captions (%d per image), split %s</p>\n", (long long)d.n_img, (long long)d.n_cap, d.per,
                xml_escape(d.split).c_str());
    // 1. the table, as the papers lay it out
    h += "<h2>Recall</h2>\n<table class=\"m\"><tr><th></th><th>i2t R@1</th><th>R@5</th><th>R@10</th><th>t2i R@1</th>"
         "<th>R@5</th><th>R@10</th><th>rsum</th><th>medr i2t / t2i</th><th>meanr i2t / t2i</th></tr>\n";
    auto row = [&](const std::string& name, const RetrievalMetrics& m) {
        return strfmt("<tr><td>%s</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td><b>%.1f"
                      "</b></td><td>%.1f / %.1f</td><td>%.1f / %.1f</td></tr>\n", xml_escape(name).c_str(), m.i2t.r1, m.i2t.r5,
                      m.i2t.r10, m.t2i.r1, m.t2i.r5, m.t2i.r10, m.rsum, m.i2t.medr, m.t2i.medr, m.i2t.meanr, m.t2i.meanr);
    };
    h += row(d.split, d.full);
    if (d.has_fold5) h += row(d.split + " 5-fold 1K", d.fold5);
    h += "</table>\n";
    // 2. R@K curves: the share of queries whose correct item is within the top K
    auto curve = [](const std::vector<int64_t>& ranks, int64_t n, const std::string& name, const std::string& color) {
        Series s{name, {}, {}, color};
        std::vector<int64_t> count(n + 1, 0);
        for (int64_t r : ranks) count[std::min(r, n)]++;
        int64_t within = 0;
        for (int64_t k = 1; k <= n; k++) {
            within += count[k - 1];
            if (k <= 10 || k == n || k % std::max<int64_t>(1, n / 200) == 0) {
                s.x.push_back((double)k);
                s.y.push_back(100.0 * (double)within / (double)ranks.size());
            }
        }
        return s;
    };
    h += "<h2>R@K curves</h2>\n" +
         svg_charts({Chart{"image → text", "K", "R@K (%)", {curve(q.i2t, d.n_cap, "i2t", "#1f77b4")}, false, true},
                     Chart{"text → image", "K", "R@K (%)", {curve(q.t2i, d.n_img, "t2i", "#d62728")}, false, true}});
    // 3. the rank histogram, in buckets
    h += "<h2>Where the correct item ranks</h2>\n<table class=\"hist\"><tr><th>rank</th><th>i2t (images)</th><th>t2i (captions)</th></tr>\n";
    const int64_t edges[] = {1, 2, 3, 6, 11, 21, 51, 101, 501, INT64_MAX};
    for (int b = 0; b + 1 < (int)(sizeof edges / sizeof edges[0]); b++) {
        auto share = [&](const std::vector<int64_t>& ranks) {
            int64_t n = 0;
            for (int64_t r : ranks) n += r + 1 >= edges[b] && r + 1 < edges[b + 1];
            return 100.0 * (double)n / (double)ranks.size();
        };
        const std::string label = edges[b + 1] == INT64_MAX ? strfmt("%lld+", (long long)edges[b])
                                  : edges[b + 1] - 1 == edges[b] ? strfmt("%lld", (long long)edges[b])
                                                                 : strfmt("%lld-%lld", (long long)edges[b], (long long)edges[b + 1] - 1);
        const double a = share(q.i2t), t = share(q.t2i);
        h += strfmt("<tr><td>%s</td><td><span class=\"bar\" style=\"width:%.0fpx\"></span> %.1f%%</td><td><span class=\"bar\" "
                    "style=\"width:%.0fpx;background:#d62728\"></span> %.1f%%</td></tr>\n", label.c_str(), 2 * a, a, 2 * t, t);
    }
    h += "</table>\n";
    // 4. a gallery of sampled queries (seeded: the same report for the same run)
    Rng rng(d.seed * 0x9E3779B97F4A7C15ull + 17);
    h += "<h2>Sampled queries: text → image</h2>\n<p class=\"note\">Each caption with its 5 best images; the correct "
         "image has a green frame (shown after … when it is not among them).</p>\n";
    for (int k = 0; k < std::min<int64_t>(6, d.n_cap); k++) h += t2i_query((int64_t)rng.randint((uint64_t)d.n_cap));
    h += "<h2>Sampled queries: image → text</h2>\n<p class=\"note\">Each image with its 5 best captions; its own captions "
         "are green.</p>\n";
    for (int k = 0; k < std::min<int64_t>(4, d.n_img); k++) h += i2t_query((int64_t)rng.randint((uint64_t)d.n_img));
    // 5. the worst failures: the queries whose correct item ranked lowest
    auto worst = [](const std::vector<int64_t>& ranks, int n) {
        std::vector<int64_t> idx(ranks.size());
        for (size_t i = 0; i < idx.size(); i++) idx[i] = (int64_t)i;
        n = std::min<int>(n, (int)idx.size());
        std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int64_t a, int64_t b) {
            return ranks[a] > ranks[b] || (ranks[a] == ranks[b] && a < b);
        });
        idx.resize(n);
        return idx;
    };
    h += "<h2>Worst failures</h2>\n<p class=\"note\">The captions, then the images, whose correct match ranked lowest.</p>\n";
    for (int64_t c : worst(q.t2i, 4)) h += t2i_query(c);
    for (int64_t i : worst(q.i2t, 2)) h += i2t_query(i);
    // 6. the training curves
    if (!d.curves_svg.empty()) h += "<h2>Training</h2>\n<p class=\"note\">From the run folder's curves.svg.</p>\n" + d.curves_svg;
    return h + "<p class=\"note\">Written by vsd eval.</p>\n</body></html>\n";
}

}  // namespace vsd
