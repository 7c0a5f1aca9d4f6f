// demo.h — the embedded demo dataset: a small, learnable stand-in for Flickr30K + VSD, generated
// deterministically from a seed, in exactly the release's layout (see demo.cpp for the world model).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vsd {

struct DemoOptions {
    std::string data_path = "data";  // writes <data_path>/<name>/precomp/..., <data_path>/vocab/<name>_precomp_vocab.json
    std::string name = "demo";
    // the release's file set: "f30k" (train/dev/test; VSD files for train and test) or "coco"
    // (train/dev/testall, and test = testall's first fifth; VSD files for train and testall)
    std::string layout = "f30k";
    int n_train = 1500, n_dev = 100, n_test = 1000;  // images (5 captions each); test as Flickr30K's 1K
    int regions = 36, feat_dim = 2048, emb_dim = 1024;
    uint64_t seed = 1;
    bool verbose = true;
    bool pictures = true;  // <name>/images/demo_<id>.png: each scene drawn (for reports and search)
    int caption_words = 0;  // the step profiler: pad every caption with filler to at least this many words
};

// Generate every file, and <data_path>/<name>/.complete last; returns the precomp folder.
std::string make_demo_dataset(const DemoOptions& opt);

// The files of the release's precomp folder for a layout ("f30k" or "coco"), as the seed's
// VSD-README tree and the reference loaders name them (SCAN's ims/caps/ids per split, VSD's
// embeddings for train and the test split only). The demo writes exactly these.
std::vector<std::string> release_precomp_files(const std::string& layout);

}  // namespace vsd
