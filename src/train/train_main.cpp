// train — `make train`: train a matching model on a precomputed dataset (paper-notes §4).
#include <cstdio>

#include "../core/check.h"
#include "../core/progress.h"
#include "trainer.h"

using namespace vsd;

static int body(int argc, char** argv) {
    TrainConfig cfg;
    Flags f("train", "train GPO (BiGRU text) on precomputed region features; see README.md");
    cfg.add_flags(f);
    if (!f.parse(argc, argv)) return 0;
    TrainResult r = train(cfg);
    if (cfg.dry_run) return 0;
    std::printf("trained %lld steps in %s; checkpoints: %s, %s\n", (long long)r.steps,
                Progress::format_duration(r.seconds).c_str(), r.checkpoint.c_str(), r.best_checkpoint.c_str());
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
