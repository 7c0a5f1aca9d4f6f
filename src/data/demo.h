// demo.h — the embedded demo dataset: a small, learnable stand-in for Flickr30K + VSD, generated
// deterministically from a seed, in exactly the release's layout (see demo.cpp for the world model).
#pragma once
#include <cstdint>
#include <string>

namespace vsd {

struct DemoOptions {
    std::string data_path = "data";  // writes <data_path>/<name>/precomp/..., <data_path>/vocab/<name>_precomp_vocab.json
    std::string name = "demo";
    int n_train = 1500, n_dev = 100, n_test = 1000;  // images (5 captions each); test as Flickr30K's 1K
    int regions = 36, feat_dim = 2048, emb_dim = 1024;
    uint64_t seed = 1;
    bool verbose = true;
};

// Generate every file; returns the precomp folder.
std::string make_demo_dataset(const DemoOptions& opt);

}  // namespace vsd
