// reference_fixtures.h — loading PyTorch reference states (tools/make_*_fixtures.py) into our modules
// and comparing outputs and gradients with them.
#pragma once
#include "../src/data/npy.h"
#include "../src/nn/module.h"
#include "helpers.h"

// tests/fixtures/<dir>/<name>.npy
inline Tensor load_fixture(const std::string& dir, const std::string& name, DType t = DType::F32) {
    return npy_load(fixture(dir + "/" + name + ".npy"), t);
}

// Copy the fixture's weights into the module, by PyTorch name; every parameter must be there.
inline void load_fixture_weights(Module& m, const std::string& dir) {
    for (auto& [name, p] : m.named_parameters()) {
        Tensor w = load_fixture(dir, name);
        REQUIRE_MESSAGE(w.shape() == p.shape(), name << ": fixture " << w.shape_str() << " vs ours " << p.shape_str());
        std::copy(w.data(), w.data() + w.numel(), p.data());
        p.zero_grad();
    }
}

// Relative tolerance `rel` (of the largest magnitude in the tensor, so tiny entries are not judged
// alone), plus a floor for exact zeros (and for gradients that are zero in exact arithmetic, such as
// a bias followed by BatchNorm, which float rounding leaves at ~1e-7).
inline void check_tensor(const Tensor& got, const Tensor& want, const std::string& what, double rel = 1e-5,
                         double floor = 1e-7) {
    REQUIRE_MESSAGE(got.shape() == want.shape(), what << ": shape " << got.shape_str() << " vs " << want.shape_str());
    double scale = 0;
    for (float v : want.to_vector()) scale = std::max(scale, (double)std::fabs(v));
    INFO(what);
    CHECK_CLOSE(got, want, rel * scale + floor, rel);
}

// every parameter's gradient against grad_<name>.npy
inline void check_fixture_grads(const Module& m, const std::string& dir, double rel = 1e-5, double floor = 1e-7) {
    for (auto& [name, p] : m.named_parameters()) {
        CAPTURE(name);
        check_tensor(p.grad_tensor(), load_fixture(dir, "grad_" + name), name, rel, floor);
    }
}
