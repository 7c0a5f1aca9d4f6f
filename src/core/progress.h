// progress.h — a progress line with rate and ETA for long work (training, encoding, k-means).
// On a terminal it redraws one line (\r) at most 5 times a second; otherwise (logs, CI) it prints a
// line every `every` updates and at the end.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace vsd {

class Progress {
public:
    Progress(std::string label, int64_t total, int64_t every = 0);
    void update(int64_t done, const std::string& extra = "");
    void finish(const std::string& extra = "");
    double elapsed() const;
    static std::string format_duration(double seconds);  // "1h02m", "3m07s", "12.3s"

private:
    std::string label_;
    int64_t total_, every_, last_done_ = -1;
    bool tty_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    void draw(int64_t done, const std::string& extra, bool final);
};

}  // namespace vsd
