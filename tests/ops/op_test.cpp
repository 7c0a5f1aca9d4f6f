// op_test.cpp — the generic op test's runner (see op_test.h).
#include "op_test.h"

#include <algorithm>

#include "../../kernels/memory_pool.h"

namespace {

// The inputs of one run on `dev`: copies, differentiable ones marked (when the op has a backward).
std::vector<Tensor> prepare(const OpCase& c, Device dev) {
    std::vector<Tensor> in;
    for (size_t i = 0; i < c.inputs.size(); i++) {
        Tensor t = c.inputs[i].clone().to(dev);
        const bool constant = std::find(c.constants.begin(), c.constants.end(), (int)i) != c.constants.end();
        if (c.backward && !constant && t.dtype() == DType::F32) t.requires_grad();
        in.push_back(t);
    }
    return in;
}

// The seed gradient of the first output (the same on every device).
Tensor seed_for(const Tensor& y) { return rnd(y.shape(), 99); }

struct Run {
    std::vector<Tensor> outputs;  // on the CPU, as float (index outputs converted)
    std::vector<Tensor> grads;    // per input: its gradient on the CPU, or undefined
};

Run run_once(const OpCase& c, std::vector<Tensor>& in, bool with_backward) {
    tape().clear();
    std::vector<Tensor> out = c.run(in);
    REQUIRE_MESSAGE(!out.empty(), "the case returned no output");
    Run r;
    if (with_backward && out[0].needs_grad()) tape().backward(out[0], seed_for(out[0]).to(out[0].device()));
    tape().clear();
    for (const Tensor& o : out) {
        if (!in.empty() && o.is_cuda() != in[0].is_cuda()) FAIL_CHECK("an output left the inputs' device");
        Tensor h = o.to(Device::CPU);
        r.outputs.push_back(h.dtype() == DType::F32 ? h : to_float(h));
    }
    for (const Tensor& t : in)
        r.grads.push_back(t.needs_grad() && t.has_grad() ? t.grad_tensor().to(Device::CPU) : Tensor());
    return r;
}

void compare(const Run& got, const Run& want, const OpCase& c, const char* which, bool grads) {
    REQUIRE(got.outputs.size() == want.outputs.size());
    for (size_t k = 0; k < want.outputs.size(); k++) {
        CAPTURE(which);
        CAPTURE(k);
        CHECK_CLOSE(got.outputs[k], want.outputs[k], c.atol, c.rtol);
    }
    for (size_t i = 0; grads && i < want.grads.size(); i++) {
        if (!want.grads[i].defined()) continue;
        std::string input = "gradient of input " + std::to_string(i);
        CAPTURE(input);
        REQUIRE_MESSAGE(got.grads[i].defined(), "the device run left no gradient");
        CHECK_CLOSE(got.grads[i], want.grads[i], c.atol, c.rtol);
    }
}

// A scope in which device tensors live on the GPU (the emulator off) or in the emulator.
struct OnDevice {
    explicit OnDevice(bool emulator) : prev(emulated_device()) { use_emulated_device(emulator); }
    ~OnDevice() { use_emulated_device(prev); }
    bool prev;
};

struct Poison {
    Poison() { VSD_RUN(dk(), pool_set_poison)(true); }
    ~Poison() { VSD_RUN(dk(), pool_set_poison)(false); }
};

// returns the number of devices compared
int run_on_devices(const OpCase& c, const Run& want) {
    std::vector<bool> devices = {true};  // the emulator
    if (cuda_available()) devices.push_back(false);
    for (bool emulator : devices) {
        OnDevice on(emulator);
        const std::string device = emulator ? "emulator" : "GPU";
        CAPTURE(device);
        Poison poison;
        std::vector<Tensor> in1 = prepare(c, Device::CUDA), in2 = prepare(c, Device::CUDA);
        Run first = run_once(c, in1, false);
        Run second = run_once(c, in2, c.backward);
        compare(first, want, c, "first run", false);  // values only
        compare(second, want, c, "second run (threads in the opposite order)", true);
    }
    return (int)devices.size();
}

void gradcheck_case(const OpCase& c) {
    // differentiate with respect to the differentiable inputs only; constants are held fixed
    std::vector<int> diff;
    std::vector<Tensor> xs;
    for (size_t i = 0; i < c.inputs.size(); i++) {
        const bool constant = std::find(c.constants.begin(), c.constants.end(), (int)i) != c.constants.end();
        if (!constant && c.inputs[i].dtype() == DType::F32) {
            diff.push_back((int)i);
            xs.push_back(c.inputs[i].clone());
        }
    }
    if (xs.empty()) return;
    const std::vector<Tensor> all = c.inputs;
    auto f = [&](std::vector<Tensor>& d) {
        std::vector<Tensor> in = all;
        for (size_t j = 0; j < diff.size(); j++) in[diff[j]] = d[j];
        return c.run(in)[0];
    };
    CHECK_GRAD(f, xs, c.gc);
}

}  // namespace

int run_op_test(const OpSpec& spec) {
    const std::vector<OpCase> cases = spec.cases();
    REQUIRE_MESSAGE(!cases.empty(), spec.name << " declares no case");
    int runs = 0;
    for (const OpCase& c : cases) {
        const std::string op = std::string(spec.name) + ": " + c.label;
        CAPTURE(op);
        std::vector<Tensor> cpu_in = prepare(c, Device::CPU);
        const Run want = run_once(c, cpu_in, c.backward);
        if (c.gradcheck) gradcheck_case(c);
        for (int v : spec.versions) {
            CAPTURE(v);
            UseKernelVersion version(v);
            runs += run_on_devices(c, want);
        }
    }
    return runs;
}
