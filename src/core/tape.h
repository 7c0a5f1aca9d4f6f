// tape.h — reverse-mode automatic differentiation with a linear tape.
//
// How it works
//   Every differentiable op computes its output with a forward kernel and, when any input needs a
//   gradient (and grad mode is on), appends ONE entry to the tape: a closure that, given the
//   output's gradient, adds each input's gradient. Ops run in program order, so the tape is already
//   a topological order; backward() simply walks it from the end (as KANN's kad_compile does),
//   then clears it, so nothing from a step (activations captured by closures) is retained.
//
// Contract
//   * Gradients ACCUMULATE: every backward closure does `dx += ...`, never `dx = ...`. A tensor used
//     twice therefore receives the sum of both contributions.
//   * zero_grad is explicit (Tensor::zero_grad, or the optimiser's zero_grad) — nothing zeroes for you.
//   * A gradient buffer starts at zero. On the CPU grad() allocates and zeroes it when a closure first
//     asks. On the device that would be one memset per activation (a third of a BERT step's
//     launches), so backward() first allocates the buffers the next stretch of closures will need
//     (each entry lists its inputs that need a gradient) and zeroes them with one launch
//     (kernels/many.h); a stretch ends at kZeroStretchBytes of new buffers.
//   * A view's backward (reshape) may hand its gradient buffer to its input instead of adding it to
//     a zeroed one (Tensor::adopt_grad), when nothing else has reached the input yet: same bits.
//   * Under NoGrad (evaluation), ops record nothing and their outputs do not require grad.
//   * Closures capture Tensor handles (reference-counted), which keeps the needed activations alive
//     until backward() or clear() drops them.
//
// Worked example: adding an op, y = x^3. Its files are in the repository, built and tested by
// `make test`, and nothing else had to change (the Makefile finds files by wildcard):
//   1. kernels/cube.h    the CPU reference's declaration, and the CUDA launchers, declared once
//                        for both builds:  VSD_LAUNCHERS( void cube_forward(float* y, ...); ... )
//   2. kernels/cube.cpp  the CPU reference, plain loops:
//                            y[i] = x[i] * x[i] * x[i];          dx[i] += 3 x[i]^2 dy[i];   // note +=
//   3. kernels/cube.cu   the CUDA kernels and their launchers (compiled by nvcc for a GPU, and as
//                        C++ for the emulator: kernels/common.cuh)
//   4. src/ops/cube.cpp  the differentiable op: check the input, run the kernel of the input's
//                        device, record the backward:
//                            const Backend* k = op_device("cube", {x});     // null on the CPU
//                            if (k) VSD_RUN(*k, cube_forward)(y.data(), x.data(), n);
//                            else cube_forward_cpu(y.data(), x.data(), n);
//                            record("cube", {x}, y, [x, y, k]() mutable { ... cube_backward ... });
//                        record() stores the closure only when some input needs a gradient and grad
//                        mode is on, and then marks y as requiring grad; inside it, y.grad() is the
//                        output's gradient.
//   5. tests/ops/cube.cpp  one declaration of cases, OP_TEST(cube, ...) { return {OpCase(...)}; },
//                        gets the value check against the CPU reference, the gradient check, and
//                        the CPU-vs-device parity on the emulator and on a GPU (tests/ops/op_test.h)
//   6. src/ops/ops.h     one line in the list of ops:  Tensor cube(const Tensor& x);
#pragma once
#include <functional>
#include <initializer_list>
#include <vector>

#include "tensor.h"

namespace vsd {

class Tape {
public:
    struct Entry {
        const char* name;              // op name, for debugging (`dump`)
        std::function<void()> backward;
        std::vector<Tensor> grads;     // the inputs whose gradient buffer the closure adds to
    };
    // Run backward from `root`: seed root's gradient with `seed` (ones when undefined), then run
    // every recorded closure in reverse order; finally clear the tape.
    void backward(const Tensor& root, const Tensor& seed = Tensor());
    void clear() { entries_.clear(); }
    size_t size() const { return entries_.size(); }
    void push(const char* name, std::function<void()> fn, std::vector<Tensor> grads = {}) {
        entries_.push_back({name, std::move(fn), std::move(grads)});
    }
    std::vector<const char*> names() const;

private:
    std::vector<Entry> entries_;
};

Tape& tape();           // one tape per thread
// The op whose work runs now, for the step profiler (tools/step_profile.cpp --by_kernel says
// "op/kernel"): set by op_device (src/ops/util.h) as an op starts, and by backward() before each
// closure, so a backward launch is named after the op it differentiates.
const char*& current_op();
bool grad_enabled();    // false inside a NoGrad scope

// Evaluation scope: no recording, outputs do not require grad.
struct NoGrad {
    NoGrad();
    ~NoGrad();
    bool prev;
};

// Does any input need a gradient (with grad mode on)? Ops use this to skip recording.
bool any_needs_grad(std::initializer_list<Tensor> inputs);

// Record a backward closure for `out` if any input needs a gradient; marks out as requiring grad.
void record(const char* name, std::initializer_list<Tensor> inputs, Tensor& out, std::function<void()> fn);
// The same, for ops with a variable number of inputs (concat).
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, std::function<void()> fn);
// For a view of x (reshape): the closure allocates x's gradient itself (adopt_grad), so backward()
// does not zero one for it in advance.
void record_view(const char* name, const Tensor& x, Tensor& out, std::function<void()> fn);

// Shorthand: run backward from a scalar loss.
inline void backward(const Tensor& loss) { tape().backward(loss); }

}  // namespace vsd
