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
//   * Under NoGrad (evaluation), ops record nothing and their outputs do not require grad.
//   * Closures capture Tensor handles (reference-counted), which keeps the needed activations alive
//     until backward() or clear() drops them.
//
// Worked example: adding an op  y = x^3
//   1. kernels/cube.h / kernels/cube.cpp — the CPU reference, plain loops:
//        void cube_forward_cpu(float* y, const float* x, int64_t n)
//            { for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i] * x[i]; }
//        void cube_backward_cpu(float* dx, const float* dy, const float* x, int64_t n)  // dy/dx = 3x^2
//            { for (int64_t i = 0; i < n; i++) dx[i] += 3.0f * x[i] * x[i] * dy[i]; }  // note +=
//   2. src/ops/ — the differentiable op: check shapes, run the kernel, record the backward:
//        Tensor cube(const Tensor& x) {
//            ENSURE(x.dtype() == DType::F32, "cube: expected float32, got %s", dtype_name(x.dtype()));
//            Tensor y = Tensor::empty(x.shape());
//            cube_forward_cpu(y.data(), x.data(), x.numel());
//            record("cube", {x}, y, [x, y]() mutable {           // runs during backward()
//                if (x.needs_grad()) cube_backward_cpu(x.grad(), y.grad(), x.data(), x.numel());
//            });
//            return y;
//        }
//      record() only stores the closure when some input needs a gradient and grad mode is on, and
//      then marks y as requiring grad. Inside the closure, y.grad() is the output's gradient.
//   3. tests/ — a value test against a hand-computed case (cube(2) == 8), and a gradcheck:
//        CHECK_GRAD(gradcheck([](auto& in) { return cube(in[0]); }, {x}));
//      (when the CUDA backend exists: a CUDA kernel in kernels/cube.cu and a parity test too).
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
    };
    // Run backward from `root`: seed root's gradient with `seed` (ones when undefined), then run
    // every recorded closure in reverse order; finally clear the tape.
    void backward(const Tensor& root, const Tensor& seed = Tensor());
    void clear() { entries_.clear(); }
    size_t size() const { return entries_.size(); }
    void push(const char* name, std::function<void()> fn) { entries_.push_back({name, std::move(fn)}); }
    std::vector<const char*> names() const;

private:
    std::vector<Entry> entries_;
};

Tape& tape();           // one tape per thread
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

// Shorthand: run backward from a scalar loss.
inline void backward(const Tensor& loss) { tape().backward(loss); }

}  // namespace vsd
