// module.h — parameters with names, so a model can be saved, loaded and exchanged with the
// reference (the names are PyTorch's: "img_enc.fc.weight", "txt_enc.rnn.weight_ih_l0_reverse", ...).
//
// A module registers its trainable parameters, its buffers (BatchNorm running statistics) and its
// children; named_parameters() / named_buffers() walk that tree in registration order. Modules are
// neither copied nor moved (the registry points at their members).
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.h"
#include "../data/safetensors.h"

namespace vsd {

class Module {
public:
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    virtual ~Module() = default;

    using Named = std::vector<std::pair<std::string, Tensor>>;
    Named named_parameters(const std::string& prefix = "") const;
    Named named_buffers(const std::string& prefix = "") const;
    Named state_dict(const std::string& prefix = "") const;  // parameters then buffers
    std::vector<Tensor> parameters() const;
    int64_t num_parameters() const;

    void train(bool on = true);  // recursively
    // Move every parameter and float buffer to `d` (integer buffers such as BatchNorm's step count
    // stay on the host). Do this before building an optimiser, which holds the parameters.
    void to(Device d);
    void eval() { train(false); }
    bool is_training() const { return training_; }

protected:
    // register a member tensor; parameters are marked requires_grad
    void register_parameter(const std::string& name, Tensor& t);
    void register_buffer(const std::string& name, Tensor& t);
    void register_module(const std::string& name, Module& m);
    bool training_ = true;

private:
    std::vector<std::pair<std::string, Tensor*>> params_, buffers_;
    std::vector<std::pair<std::string, Module*>> children_;
    void collect(const std::string& prefix, Named& out, bool buffers) const;
};

// Copy a weights file's tensors into m's state dict by name, each looked up as is and then under each
// of `prefixes` ("bert.", "module."); shapes and finiteness checked; the file's tensors for which
// ignore(name) holds are skipped. Every missing, mis-shaped, non-finite or unexpected tensor is
// listed in one error: "<source>: the weights do not match the <what> (N problems): ... HINT: <hint>".
void load_named_tensors(Module& m, const SafeTensors& st, const std::string& source, const std::vector<std::string>& prefixes,
                        const std::function<bool(const std::string&)>& ignore, const std::string& what, const std::string& hint);

// ---- initialisers (PyTorch's formulas) ----------------------------------------------------
// U(-b, b) in place
void uniform_(Tensor& t, float bound, Rng& rng);
// nn.Linear / nn.GRU default: U(+-1/sqrt(fan_in))
float default_bound(int64_t fan_in);
// xavier_uniform: U(+-sqrt(6 / (fan_in + fan_out)))
void xavier_uniform_(Tensor& t, Rng& rng);

}  // namespace vsd
