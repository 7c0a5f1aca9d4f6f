// run_log.h — what a run folder records as training goes, besides train.log and the checkpoints:
//   events.out.tfevents.*   TensorBoard scalars with the reference's tags (train.py):
//                           per step  epoch, step, batch_time, data_time, Eit, lr, Le
//                           per validation  r1 r5 r10 medr meanr r1i r5i r10i medri meanr rsum
//                           (the reference logs `meanr` twice, the second time with the t2i value;
//                           we do the same, and add meanri so the t2i mean rank is unambiguous)
//                           and ours: loss/<term> for each loss term, grad_norm
//   curves.tsv, curves.svg  per epoch: the mean training loss and the validation rsum, as a table
//                           and as a picture (rewritten whole, atomically, after every epoch)
#pragma once
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../data/tfevents.h"
#include "metrics.h"

namespace vsd {

class RunLog {
public:
    // resume: keep curves.tsv's earlier epochs (a fresh run starts it anew)
    RunLog(const std::string& run_dir, bool tensorboard, bool resume);
    // one optimiser step; `step` is the 1-based global step (the reference's Eiters)
    void step(int64_t step, int epoch, int64_t step_in_epoch, double lr, double loss,
              const std::vector<std::pair<std::string, float>>& terms, double grad_norm, double batch_s, double data_s);
    void validation(int64_t step, const RetrievalMetrics& m);
    // the end of an epoch: its mean loss (and rsum when validated) joins curves.tsv/.svg
    void epoch_end(int epoch);
    const std::string& events_path() const;

private:
    std::string dir_;
    std::unique_ptr<EventFile> events_;
    double loss_sum_ = 0, rsum_ = NAN;
    int64_t loss_n_ = 0;
};

}  // namespace vsd
