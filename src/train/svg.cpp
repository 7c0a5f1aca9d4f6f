// svg.cpp — line and bar charts as plain SVG (svg.h).
#include "svg.h"

#include <algorithm>
#include <cmath>

#include "../core/check.h"

namespace vsd {

std::string xml_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

namespace {

// "nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about 5 of them
std::vector<double> ticks(double lo, double hi) {
    const double span = hi - lo, raw = span / 5;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
    return t;
}

std::string num(double v) {
    if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) return strfmt("%.0e", v);
    std::string s = strfmt("%.3f", v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

}  // namespace

std::string svg_chart(const Chart& c, int W, int H) {
    const double left = 56, right = 12, top = 28, bottom = 44;
    const double pw = W - left - right, ph = H - top - bottom;
    // the data range (y from 0 for bars; a flat range widened so it has a height)
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const Series& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (c.log_x && s.x[i] <= 0)) continue;
            const double x = c.log_x ? std::log10(s.x[i]) : s.x[i];
            x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
        }
    std::string o = strfmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                           "font-family=\"sans-serif\" font-size=\"11\">\n", W, H, W, H);
    o += strfmt("<text x=\"%d\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">%s</text>\n", W / 2,
                xml_escape(c.title).c_str());
    if (!(x0 <= x1)) return o + strfmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no data</text>\n</svg>\n", W / 2, H / 2);
    if (c.bars) y0 = std::min(y0, 0.0), x0 -= 0.5, x1 += 0.5;
    if (y1 - y0 < 1e-12) y0 -= 1, y1 += 1;
    if (x1 - x0 < 1e-12) x0 -= 1, x1 += 1;
    const double pad = (y1 - y0) * 0.05;
    if (!c.bars || y0 < 0) y0 -= pad;
    y1 += pad;
    auto X = [&](double x) { return left + ((c.log_x ? std::log10(x) : x) - x0) / (x1 - x0) * pw; };
    auto Y = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };
    // axes, grid and ticks
    o += strfmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n", left, top, pw, ph);
    for (double t : ticks(y0, y1))
        o += strfmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"end\">%s</text>\n", left, left + pw, Y(t), Y(t), left - 4, Y(t) + 4, num(t).c_str());
    if (c.log_x) {
        for (double d = std::floor(x0); d <= x1 + 1e-9; d++) {
            const double v = std::pow(10.0, d);
            if (d < x0 - 1e-9) continue;
            o += strfmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"middle\">%s</text>\n", X(v), X(v), top, top + ph, X(v), top + ph + 14, num(v).c_str());
        }
    } else {
        for (double t : ticks(x0, x1))
            o += strfmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", X(t), top + ph + 14, num(t).c_str());
    }
    o += strfmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", left + pw / 2, H - 6, xml_escape(c.xlabel).c_str());
    o += strfmt("<text transform=\"translate(12,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", top + ph / 2,
                xml_escape(c.ylabel).c_str());
    // the data
    for (size_t k = 0; k < c.series.size(); k++) {
        const Series& s = c.series[k];
        if (c.bars && k == 0) {
            const double bw = std::max(1.0, pw / (x1 - x0) * 0.8);
            for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++)
                o += strfmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>\n",
                            X(s.x[i]) - bw / 2, Y(std::max(s.y[i], 0.0)), bw, std::fabs(Y(s.y[i]) - Y(0)), s.color.c_str(),
                            num(s.x[i]).c_str(), num(s.y[i]).c_str());
            continue;
        }
        std::string pts;
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++)
            if (std::isfinite(s.y[i]) && (!c.log_x || s.x[i] > 0)) pts += strfmt("%.1f,%.1f ", X(s.x[i]), Y(s.y[i]));
        o += strfmt("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", s.color.c_str(), pts.c_str());
        if (s.x.size() <= 40)  // few points: mark them
            for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++)
                if (std::isfinite(s.y[i]))
                    o += strfmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s: %s</title></circle>\n",
                                X(s.x[i]), Y(s.y[i]), s.color.c_str(), num(s.x[i]).c_str(), num(s.y[i]).c_str());
        // the legend, top right
        o += strfmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"3\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                    left + pw - 110, top + 10 + 14.0 * k, s.color.c_str(), left + pw - 96, top + 14 + 14.0 * k,
                    xml_escape(s.name).c_str());
    }
    return o + "</svg>\n";
}

std::string svg_charts(const std::vector<Chart>& charts, int W, int H) {
    const int n = (int)charts.size();
    std::string o = strfmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
                           W * n, H, W * n, H);
    for (int i = 0; i < n; i++) {
        std::string one = svg_chart(charts[i], W, H);
        one.replace(0, 4, strfmt("<svg x=\"%d\"", W * i));  // nest it, shifted right
        o += one;
    }
    return o + "</svg>\n";
}

}  // namespace vsd
