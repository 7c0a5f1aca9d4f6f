// run_log.cpp — TensorBoard scalars and the per-epoch curves of a run (run_log.h).
#include "run_log.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../core/check.h"
#include "../data/npy.h"  // write_file_atomic
#include "svg.h"

namespace vsd {

RunLog::RunLog(const std::string& run_dir, bool tensorboard, bool resume) : dir_(run_dir) {
    if (tensorboard) events_ = std::make_unique<EventFile>(run_dir);
    if (!resume) write_file_atomic(dir_ + "/curves.tsv", "epoch\tloss\trsum\n");
}

const std::string& RunLog::events_path() const {
    static const std::string none;
    return events_ ? events_->path() : none;
}

void RunLog::step(int64_t step, int epoch, int64_t step_in_epoch, double lr, double loss,
                  const std::vector<std::pair<std::string, float>>& terms, double grad_norm, double batch_s, double data_s) {
    loss_sum_ += loss;
    loss_n_++;
    if (!events_) return;
    EventFile& e = *events_;
    e.scalar("epoch", epoch, step);
    e.scalar("step", (double)step_in_epoch, step);
    e.scalar("batch_time", batch_s, step);
    e.scalar("data_time", data_s, step);
    e.scalar("Eit", (double)step, step);
    e.scalar("lr", lr, step);
    e.scalar("Le", loss, step);
    for (const auto& [name, v] : terms) e.scalar("loss/" + name, v, step);
    e.scalar("grad_norm", grad_norm, step);
}

void RunLog::validation(int64_t step, const RetrievalMetrics& m) {
    rsum_ = m.rsum;
    if (!events_) return;
    EventFile& e = *events_;
    const std::pair<const char*, double> tags[] = {
        {"r1", m.i2t.r1},   {"r5", m.i2t.r5},   {"r10", m.i2t.r10},     {"medr", m.i2t.medr},   {"meanr", m.i2t.meanr},
        {"r1i", m.t2i.r1},  {"r5i", m.t2i.r5},  {"r10i", m.t2i.r10},    {"medri", m.t2i.medr},  {"meanr", m.t2i.meanr},
        {"meanri", m.t2i.meanr}, {"rsum", m.rsum}};
    for (const auto& [tag, v] : tags) e.scalar(tag, v, step);
    e.flush();
}

void RunLog::epoch_end(int epoch) {
    if (events_) events_->flush();
    // curves.tsv: append this epoch (rewritten whole, so a crash never leaves half a line)
    std::string tsv;
    {
        std::ifstream in(dir_ + "/curves.tsv");
        std::stringstream ss;
        ss << in.rdbuf();
        tsv = ss.str();
    }
    if (tsv.empty()) tsv = "epoch\tloss\trsum\n";
    tsv += strfmt("%d\t%.6g\t%s\n", epoch + 1, loss_n_ ? loss_sum_ / (double)loss_n_ : NAN,
                  std::isfinite(rsum_) ? strfmt("%.2f", rsum_).c_str() : "-");
    write_file_atomic(dir_ + "/curves.tsv", tsv);
    loss_sum_ = 0, loss_n_ = 0, rsum_ = NAN;
    // curves.svg from the whole table
    Series loss{"mean loss", {}, {}, "#d62728"}, rsum{"rsum", {}, {}, "#1f77b4"};
    std::istringstream lines(tsv);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string ep, l, r;
        if (!std::getline(f, ep, '\t') || !std::getline(f, l, '\t') || !std::getline(f, r)) continue;
        const double x = std::atof(ep.c_str());
        loss.x.push_back(x), loss.y.push_back(std::atof(l.c_str()));
        if (r != "-") rsum.x.push_back(x), rsum.y.push_back(std::atof(r.c_str()));
    }
    const std::string svg = svg_charts({Chart{"training loss (epoch mean)", "epoch", "loss", {loss}},
                                        Chart{"validation rsum", "epoch", "rsum", {rsum}}});
    write_file_atomic(dir_ + "/curves.svg", svg);
}

}  // namespace vsd
