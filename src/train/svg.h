// svg.h — small self-contained SVG charts (no script, no external assets) for the run folder's
// training curves and the evaluation report: line charts and a bar chart, in our own layout.
#pragma once
#include <string>
#include <vector>

namespace vsd {

struct Series {
    std::string name;
    std::vector<double> x, y;
    std::string color = "#1f77b4";
};

struct Chart {
    std::string title, xlabel, ylabel;
    std::vector<Series> series;
    bool bars = false;   // draw the first series as bars (a histogram) instead of lines
    bool log_x = false;  // a log10 x axis (R@K curves over K = 1..N)
};

// One chart as an <svg> element of the given size; several charts side by side in one <svg>.
std::string svg_chart(const Chart& c, int width = 460, int height = 300);
std::string svg_charts(const std::vector<Chart>& charts, int width = 460, int height = 300);

// &, <, >, " escaped for text inside SVG or HTML
std::string xml_escape(const std::string& s);

}  // namespace vsd
