// The layering of the code, checked from its #include lines: the arrows point one way only.
//
//     core  <-  kernels  <-  ops  <-  nn  <-  train          data beside them (core only)
//
//   src/core      tensors, the tape, checks, flags: includes nothing else of ours
//   kernels/      the CPU references and CUDA kernels: core (tensor.h's Backend, check.h) only
//   src/ops       the differentiable ops: kernels and core
//   src/data      file formats, datasets, the loader: core only
//   src/nn        the models: ops and core, and the data layer's weight-file readers (json, npy,
//                 safetensors, torch_load); never the loader (models take tensors) nor a kernel
//   src/train     the trainer, the programs, checkpoints: anything below
#include <dirent.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "helpers.h"

namespace {

// "src/ops/softmax.cpp" -> "src/ops"; "kernels/sim/cuda_sim.h" -> "kernels"
std::string layer_of(const std::string& path) {
    if (path.rfind("kernels/", 0) == 0) return "kernels";
    const size_t a = path.find('/'), b = path.find('/', a + 1);
    return b == std::string::npos ? path.substr(0, a) : path.substr(0, b);
}

// a/b/../c -> a/c
std::string normalise(const std::string& p) {
    std::vector<std::string> parts;
    std::stringstream ss(p);
    std::string s;
    while (std::getline(ss, s, '/')) {
        if (s == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!s.empty() && s != ".") {
            parts.push_back(s);
        }
    }
    std::string out;
    for (const std::string& x : parts) out += (out.empty() ? "" : "/") + x;
    return out;
}

void list_sources(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
    DIR* d = opendir((root + "/" + rel).c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string r = rel + "/" + name;
        if (e->d_type == DT_DIR) {
            list_sources(root, r, out);
        } else {
            for (const char* ext : {".h", ".cpp", ".cu", ".cuh"}) {
                const std::string x = ext;
                if (name.size() > x.size() && name.compare(name.size() - x.size(), x.size(), x) == 0) out.push_back(r);
            }
        }
    }
    closedir(d);
}

// May a file of layer `from` include `to` (the included file's path)?
bool allowed(const std::string& from, const std::string& to_path) {
    const std::string to = layer_of(to_path);
    if (from == to) return true;
    static const std::map<std::string, std::set<std::string>> below = {
        {"src/core", {}},
        {"kernels", {"src/core"}},
        {"src/ops", {"kernels", "src/core"}},
        {"src/data", {"src/core"}},
        {"src/nn", {"src/ops", "src/core", "src/data"}},
        {"src/train", {"src/nn", "src/ops", "kernels", "src/core", "src/data"}},
    };
    auto it = below.find(from);
    if (it == below.end() || !it->second.count(to)) return false;
    if (from == "src/nn" && to == "src/data") {  // weight and config files only, never the loader
        for (const char* ok : {"src/data/json.h", "src/data/npy.h", "src/data/safetensors.h", "src/data/torch_load.h"})
            if (to_path == ok) return true;
        return false;
    }
    return true;
}

}  // namespace

TEST_CASE("layers: every #include points down core <- kernels <- ops <- nn <- train (data beside), no cycle") {
    const std::string root = VSD_SOURCE_DIR;
    std::vector<std::string> files;
    list_sources(root, "src", files);
    list_sources(root, "kernels", files);
    REQUIRE_MESSAGE(files.size() > 50, "found only " << files.size() << " source files under " << root);
    std::map<std::string, std::map<std::string, int>> graph;  // layer -> layer -> #includes
    int checked = 0;
    for (const std::string& f : files) {
        std::ifstream in(root + "/" + f);
        std::string line;
        int lineno = 0;
        const std::string dir = f.substr(0, f.rfind('/'));
        while (std::getline(in, line)) {
            lineno++;
            const size_t at = line.find("#include \"");
            if (at == std::string::npos || line.find_first_not_of(" \t") != at) continue;
            const size_t q = line.find('"', at + 10);
            const std::string target = normalise(dir + "/" + line.substr(at + 10, q - at - 10));
            const std::string from = layer_of(f), to = layer_of(target);
            graph[from][to]++;
            checked++;
            CHECK_MESSAGE(allowed(from, target), f << ":" << lineno << " (" << from << ") includes " << target << " ("
                                                   << to << "): an arrow pointing the wrong way");
        }
    }
    CHECK(checked > 100);
    // no cycle between layers (depth-first search over the layer graph, self-loops aside)
    std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
    std::function<bool(const std::string&)> cyclic = [&](const std::string& n) {
        state[n] = 1;
        for (auto& [m, count] : graph[n]) {
            if (m == n) continue;
            if (state[m] == 1 || (state[m] == 0 && cyclic(m))) return true;
        }
        state[n] = 2;
        return false;
    };
    for (auto& [n, edges] : graph) CHECK_MESSAGE((state[n] != 0 || !cyclic(n)), "an include cycle through " << n);
}

TEST_CASE("layers: the checker itself rejects a wrong arrow") {
    CHECK_FALSE(allowed("src/core", "kernels/launch.h"));
    CHECK_FALSE(allowed("kernels", "src/ops/ops.h"));
    CHECK_FALSE(allowed("src/nn", "kernels/backend.h"));
    CHECK_FALSE(allowed("src/nn", "src/data/batch.h"));
    CHECK_FALSE(allowed("src/data", "src/train/kmeans.h"));
    CHECK(allowed("src/nn", "src/data/safetensors.h"));
    CHECK(allowed("src/ops", "kernels/softmax.h"));
    CHECK(layer_of("kernels/sim/cuda_sim.h") == "kernels");
    CHECK(normalise("src/ops/../../kernels/gemm.h") == "kernels/gemm.h");
}

namespace {

// Does a line of a model file touch tensor elements by hand? Element access (data()[..],
// i64()[..], index_at) and loops over an index are what ops are for; loops over layers,
// modules and parameters (range-for) are structure and stay.
std::string element_work(std::string line) {
    const size_t comment = line.find("//");
    if (comment != std::string::npos) line = line.substr(0, comment);
    for (const char* bad : {"data()[", "i64()[", "i32()[", "index_at(", "for (int64_t", "for (int ", "while ("})
        if (line.find(bad) != std::string::npos) return bad;
    return "";
}

}  // namespace

TEST_CASE("layers: the model files compute with ops only (no element loops, no host-built masks in src/nn)") {
    const std::string root = VSD_SOURCE_DIR;
    std::vector<std::string> files;
    list_sources(root, "src/nn", files);
    REQUIRE(files.size() > 10);
    // the allowed exceptions, each with its reason: bookkeeping on host integers, not tensor maths
    const std::set<std::string> allowed_lines = {
        "src/nn/layers.cpp:    if (training_) num_batches_tracked.i64()[0]++;",  // BatchNorm's step counter (a host buffer)
        "src/nn/bert.cpp:    for (int64_t i = 0; i < c.layers; i++) {",                // building the layers
        "src/nn/clip.cpp:    for (int64_t i = 0; i < layers; i++) {",                  // building the layers
        // CLIP's EOT positions from the host token ids (eot_rows)
        "src/nn/clip.cpp:    for (int64_t b = 0; b < B; b++) {",
        "src/nn/clip.cpp:        for (int64_t t = 0; t < L; t++) {",
        "src/nn/clip.cpp:            const int64_t id = ids.index_at(b * L + t);",
        "src/nn/clip.cpp:            if (id > ids.index_at(b * L + best)) best = t;",
        // reading open_clip_config.json's preprocessing mean and std
        "src/nn/clip.cpp:                for (int i = 0; i < 3; i++) (key[0] == 'm' ? c.mean : c.std)[i] = (float)(*a)[i].as_double(key);",
    };
    int lines = 0;
    for (const std::string& f : files) {
        std::ifstream in(root + "/" + f);
        std::string line;
        int lineno = 0;
        while (std::getline(in, line)) {
            lineno++;
            lines++;
            const std::string bad = element_work(line);
            if (bad.empty() || allowed_lines.count(f + ":" + line)) continue;
            CHECK_MESSAGE(false, f << ":" << lineno << ": `" << bad << "` in a model file: make it an op (src/ops, kernels/)");
        }
    }
    CHECK(lines > 500);
    // the checker itself
    CHECK(element_work("    for (int64_t b = 0; b < B; b++) w.data()[b] = 1;") == "data()[");
    CHECK(element_work("    x = sum(y);  // data()[0] in a comment") == "");
    CHECK(element_work("    for (auto& l : layer) h = l->forward(h);") == "");
}
