#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include "check.h"

namespace vsd {

Progress::Progress(std::string label, int64_t total, int64_t every)
    : label_(std::move(label)), total_(total), every_(every > 0 ? every : std::max<int64_t>(1, total / 10)),
      tty_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double s) {
    if (s < 60) return strfmt("%.1fs", s);
    if (s < 3600) return strfmt("%dm%02ds", (int)s / 60, (int)s % 60);
    return strfmt("%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void Progress::draw(int64_t done, const std::string& extra, bool final) {
    const double t = elapsed();
    const double frac = total_ > 0 ? (double)done / total_ : 1.0;
    const double eta = done > 0 ? t / done * (total_ - done) : 0.0;
    std::string bar;
    if (tty_) {
        int w = 24, fill = (int)(frac * w);
        bar = "[" + std::string(fill, '=') + (fill < w ? ">" : "") + std::string(std::max(0, w - fill - 1), ' ') + "] ";
    }
    std::string line = strfmt("%s %lld/%lld %s%5.1f%% | %s elapsed | ETA %s%s%s", label_.c_str(), (long long)done,
                              (long long)total_, bar.c_str(), 100.0 * frac, format_duration(t).c_str(),
                              final ? "0s" : format_duration(eta).c_str(), extra.empty() ? "" : " | ", extra.c_str());
    if (tty_) std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
    else std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

void Progress::update(int64_t done, const std::string& extra) {
    auto now = std::chrono::steady_clock::now();
    bool due = tty_ ? std::chrono::duration<double>(now - last_draw_).count() > 0.2 : (done % every_ == 0 && done != last_done_);
    if (!due || done >= total_) return;
    last_draw_ = now;
    last_done_ = done;
    draw(done, extra, false);
}

void Progress::finish(const std::string& extra) { draw(total_, extra, true); }

}  // namespace vsd
