// op_test.h — one generic test for every op, in the manner of ggml's test-backend-ops.
//
// An op declares its cases once, in its own file tests/ops/<op>.cpp:
//
//     OP_TEST(softmax, "softmax and log_softmax over the last dim", {1, 2}) {  // {kernel versions}
//         return {
//             OpCase("6 x 33, one row masked", {rnd({6, 33}, 1), mask},
//                    [](Inputs x) { return softmax(x[0], x[1]); }).constant({1}),
//             ...
//         };
//     }
//
// and gets, for every case and every kernel version (UseKernelVersion, kernels/backend.h):
//   1. the CPU run: the outputs, and the gradient of every differentiable input under a seeded
//      random gradient of the first output;
//   2. the gradient check of that CPU backward against central finite differences;
//   3. every device: the CUDA emulator always, the GPU when there is one. Fresh device memory is
//      poisoned first (0xFF bytes: NaN as float, -1 as an integer), so an element a kernel forgets
//      to write fails the comparison. The op runs twice: the emulator runs a block's threads in
//      opposite orders on alternate launches, so a missing __syncthreads shows in one of them.
//      Both runs' outputs, and the gradients of the second, must equal the CPU's within the case's
//      tolerance.
// Sizes are the case's business: each op lists the edges (0 or 1 elements, odd sizes, one past a
// warp or a block) that its kernels split work on.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../../kernels/backend.h"
#include "../helpers.h"

using Inputs = std::vector<Tensor>&;

// A seeded 0/1 float mask (about half ones)
inline Tensor mask01(const Shape& s, uint64_t seed) {
    Tensor m = rnd(s, seed, 0.0f, 2.0f);
    for (int64_t i = 0; i < m.numel(); i++) m.data()[i] = m.data()[i] >= 1.0f ? 1.0f : 0.0f;
    return m;
}

// B seeded lengths in [0, max_len]
inline Tensor rnd_lengths(int64_t B, int64_t max_len, uint64_t seed) {
    Rng r(seed);
    std::vector<int64_t> v(B);
    for (int64_t& x : v) x = (int64_t)r.uniform(0.0f, (float)max_len + 0.999f);
    return Tensor::from_i64({B}, v);
}

struct OpCase {
    std::string label;
    std::vector<Tensor> inputs;  // CPU tensors; float inputs are differentiable unless constant()
    std::function<std::vector<Tensor>(Inputs)> run;
    std::vector<int> constants;  // inputs that carry no gradient (masks, conditions, lengths)
    double atol = 2e-5, rtol = 2e-4;
    bool backward = true;        // false: a forward-only op (its inputs never require grad)
    bool gradcheck = true;       // false: not smooth at these inputs, or too large to difference
    GradcheckOptions gc;

    template <class F>
    OpCase(std::string l, std::vector<Tensor> in, F f) : label(std::move(l)), inputs(std::move(in)) {
        run = [f](Inputs x) { return as_outputs(f(x)); };
    }
    OpCase& constant(std::vector<int> idx) { constants = std::move(idx); return *this; }
    OpCase& tol(double a, double r) { atol = a; rtol = r; return *this; }
    OpCase& forward_only() { backward = false; gradcheck = false; return *this; }
    OpCase& no_gradcheck() { gradcheck = false; return *this; }
    OpCase& gradcheck_tol(double a, double r) { gc.atol = a; gc.rtol = r; return *this; }

    static std::vector<Tensor> as_outputs(Tensor t) { return {std::move(t)}; }
    static std::vector<Tensor> as_outputs(std::pair<Tensor, Tensor> p) { return {std::move(p.first), std::move(p.second)}; }
    static std::vector<Tensor> as_outputs(std::vector<Tensor> v) { return v; }
};

struct OpSpec {
    const char* name;
    std::vector<int> versions;  // {0}: the op's default only
    std::vector<OpCase> (*cases)();
};

// Runs every check above for one op; failures name the op, the case, the version and the device.
// Returns how many (case, version, device) runs were compared with the CPU's.
int run_op_test(const OpSpec& spec);

// OP_TEST(name, "what it covers", {versions}) { return {cases...}; }  registers one doctest case.
#define OP_TEST(NAME, WHAT, ...)                                                              \
    static std::vector<OpCase> op_cases_##NAME();                                             \
    TEST_CASE("op " #NAME ": " WHAT) { CHECK(run_op_test({#NAME, std::vector<int> __VA_ARGS__, &op_cases_##NAME}) > 0); } \
    static std::vector<OpCase> op_cases_##NAME()
