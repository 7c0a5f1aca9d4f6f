// make_demo — write the embedded demo dataset (the release's files, vocab, prototypes, a tiny BERT).
//   build/<cfg>/make_demo [--data_path data] [--n_train 1500] [--seed 1] ...
//   build/<cfg>/make_demo --name coco --layout coco --data_path /tmp/d   a COCO-shaped copy
#include <cstdio>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/train/demo.h"

using namespace vsd;

static int body(int argc, char** argv) {
    DemoOptions o;
    Flags f("make_demo", "generate the demo dataset, deterministically from --seed");
    f.add("data_path", &o.data_path, "folder that receives <name>/precomp, <name>/proto and vocab/");
    f.add("name", &o.name, "dataset name: demo, or f30k / coco for a copy under the release's names");
    f.add("layout", &o.layout, "the release's file set: f30k (train/dev/test) or coco (train/dev/test/testall)");
    f.add("n_train", &o.n_train, "training images (5 captions each)");
    f.add("n_dev", &o.n_dev, "dev images");
    f.add("n_test", &o.n_test, "test images");
    f.add("regions", &o.regions, "regions per image");
    f.add("feat_dim", &o.feat_dim, "region feature size");
    f.add("emb_dim", &o.emb_dim, "VSD embedding size");
    f.add("seed", &o.seed, "random seed");
    f.add("pictures", &o.pictures, "also draw every scene as <name>/images/demo_<id>.png (for reports and search)");
    if (!f.parse(argc, argv)) return 0;
    std::printf("make_demo: writing %s/%s (seed %llu)\n", o.data_path.c_str(), o.name.c_str(), (unsigned long long)o.seed);
    make_demo_dataset(o);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
