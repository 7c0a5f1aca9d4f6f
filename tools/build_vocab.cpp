// build_vocab — a SCAN vocabulary for a new dataset (the BiGRU text encoder's word list), built as
// vse_infty's bigru branch builds it (lib/vocab.py, paper-notes §1.6): NLTK-style tokens of the lower-cased
// train and dev captions, words seen at least --min_count times, ids 0..3 = <pad> <start> <end> <unk>,
// then words in first-seen order.
//   build/<cfg>/build_vocab --data_path D --dataset mydata    writes D/vocab/mydata_precomp_vocab.json
#include <cstdio>
#include <sstream>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/data/dataset.h"
#include "../src/data/tokenizer.h"

using namespace vsd;

static int body(int argc, char** argv) {
    std::string data_path = "data", dataset = "", splits = "train,dev", out = "";
    int min_count = 4;
    Flags f("build_vocab", "build a SCAN vocabulary (BiGRU text encoder) from a dataset's captions");
    f.add("data_path", &data_path, "folder holding <dataset>/precomp (or <dataset>_precomp)");
    f.add("dataset", &dataset, "dataset name");
    f.add("splits", &splits, "comma-separated splits whose captions are counted (the reference: train,dev)");
    f.add("min_count", &min_count, "keep words seen at least this often (the reference: 4)");
    f.add("out", &out, "output file (default <data_path>/vocab/<dataset>_precomp_vocab.json)");
    if (!f.parse(argc, argv)) return 0;
    ENSURE_HINT(!dataset.empty(), "pass --dataset NAME", "build_vocab: no --dataset given");
    ENSURE(min_count >= 1, "--min_count must be at least 1, got %d", min_count);
    std::vector<std::string> caps;
    std::stringstream ss(splits);
    for (std::string s; std::getline(ss, s, ',');) {
        const std::string file = find_precomp_dir(data_path, dataset, s) + "/" + s + "_caps.txt";
        std::vector<std::string> c = read_captions(file);
        std::printf("%s: %zu captions\n", file.c_str(), c.size());
        caps.insert(caps.end(), c.begin(), c.end());
    }
    Vocab v = Vocab::build(caps, min_count);
    if (out.empty()) {
        out = data_path + "/vocab/" + dataset + "_precomp_vocab.json";
        make_dirs(data_path + "/vocab");
    }
    v.save_json(out);
    std::printf("wrote %s: %d words (ids 0-3 are <pad> <start> <end> <unk>; train adds <mask>)\n", out.c_str(), v.size());
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
