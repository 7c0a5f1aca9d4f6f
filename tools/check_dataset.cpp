// check_dataset — validate a dataset folder and print a summary table.
//   build/<cfg>/check_dataset --data_path data --dataset f30k [--vsd cpm|flor|none]
// Opens every split that exists (train, dev, test, testall) with the same validation as training.
#include <sys/stat.h>

#include <cstdio>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/data/dataset.h"

using namespace vsd;

static int body(int argc, char** argv) {
    DatasetOptions o;
    std::string vsd = "cpm";
    Flags f("check_dataset", "validate every split of a dataset and print a summary");
    f.add("data_path", &o.data_path, "folder holding <dataset>/precomp (or <dataset>_precomp)");
    f.add("dataset", &o.dataset, "dataset name (f30k, coco, demo)");
    f.add("vsd", &vsd, "also check the VSD files of this source: cpm, flor, or none");
    if (!f.parse(argc, argv)) return 0;
    o.vsd = parse_vsd_source(vsd);
    int found = 0, bad = 0;
    std::printf("%-8s %8s %8s %8s %6s %6s  %s\n", "split", "images", "captions", "samples", "R", "F", "VSD files");
    for (const char* split : {"train", "dev", "test", "testall"}) {
        o.split = split;
        try {
            find_precomp_dir(o.data_path, o.dataset, split);
        } catch (const Error&) {
            continue;  // split absent
        }
        found++;
        try {
            PrecompDataset d = PrecompDataset::open(o);
            std::string files = d.desc_emb ? (d.desc_file.substr(d.desc_file.rfind('/') + 1) + " " + d.desc_emb->shape_str()) : "-";
            if (d.cap_emb) files += ", " + d.cap_emb_file.substr(d.cap_emb_file.rfind('/') + 1);
            std::printf("%-8s %8lld %8lld %8lld %6lld %6lld  %s\n", split, (long long)d.n_img, (long long)d.n_cap,
                        (long long)d.length, (long long)d.n_regions, (long long)d.feat_dim, files.c_str());
        } catch (const Error& e) {
            std::printf("%-8s INVALID\n", split);
            std::fprintf(stderr, "error: %s\n", e.what());
            bad++;
        }
    }
    ENSURE_HINT(found > 0, "see data/README.md for the layout", "no split of '%s' found under %s", o.dataset.c_str(),
                o.data_path.c_str());
    std::printf("%s: %d split%s, %s\n", o.dataset.c_str(), found, found > 1 ? "s" : "", bad ? "INVALID" : "all valid");
    return bad ? 1 : 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
