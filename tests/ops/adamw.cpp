// The adamw slice: the AdamW update (kernels/adamw.*; used by src/train/optim.cpp, not an op).
#include "../../kernels/adamw.h"
#include "../../src/train/optim.h"
#include "kernel_parity.h"
#include "op_test.h"

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_adamw() {
    // AdamW against the optimiser class, 3 steps
    {
        const int64_t n = 50;
        std::vector<float> p0 = randv(n, 40), m(n, 0.0f), v(n, 0.0f);
        Tensor P = Tensor::from({n}, p0).requires_grad();
        AdamW opt({ParamGroup{{P}, 1.0f, 0.01f}}, 1e-2f);
        Buf<Bk> DP(p0), DM(m), DV(v);
        for (int step = 1; step <= 3; step++) {
            std::vector<float> g = randv(n, 41 + step);
            std::copy(g.begin(), g.end(), P.grad());
            opt.step();
            Buf<Bk> DG(g);
            VSD_RUN(Bk{}, adamw_update)(DP.d, DG.d, DM.d, DV.d, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f - std::pow(0.9f, (float)step),
                             std::sqrt(1.0f - std::pow(0.999f, (float)step)));
        }
        CHECK_PARITY(DP.get(), P.to_vector(), 1e-6f, 1e-5f);
    }
}
KERNEL_PARITY(parity_adamw, "AdamW against the optimiser class, 3 steps")

// ---- the optimiser's device path: every tensor in one launch, the norm on the device -----------

// AdamW + clipping on the device (the chunk table, kernels/adamw.h) against the CPU optimiser: a
// tensor split over two chunks, a tiny one, one in another group that joins late, clipping on and
// off, then step counts set from outside (a resume), which must remake the table.
TEST_CASE("AdamW on the device: one launch for all tensors, the norm and clipping there, as on the CPU") {
    TestDevice dev_scope;
    const std::vector<int64_t> sizes = {(1 << 16) + 7, 5, 3};
    std::vector<Tensor> cpu, dev;
    for (size_t i = 0; i < sizes.size(); i++) {
        std::vector<float> v = randv(sizes[i], 70 + i);
        cpu.push_back(Tensor::from({sizes[i]}, v).requires_grad());
        dev.push_back(Tensor::from({sizes[i]}, v).to(Device::CUDA).requires_grad());
    }
    auto groups = [](const std::vector<Tensor>& p) {
        return std::vector<ParamGroup>{ParamGroup{{p[0], p[1]}, 1.0f, 0.01f}, ParamGroup{{p[2]}, 0.1f, 0.5f}};
    };
    AdamW oc(groups(cpu), 1e-2f), od(groups(dev), 1e-2f);
    const Tensor loss = Tensor::from({1}, {3.25f}).to(Device::CUDA);
    for (int step = 1; step <= 6; step++) {
        CAPTURE(step);
        oc.zero_grad();
        od.zero_grad();  // one launch over the table
        for (const Tensor& p : dev)
            if (p.has_grad()) CHECK_PARITY(p.grad_tensor().to(Device::CPU).to_vector(), std::vector<float>(p.numel(), 0.0f), 0.0f, 0.0f);
        // tensor 2 has no gradient before step 3 (skipped, as PyTorch skips p.grad None)
        for (size_t i = 0; i < sizes.size(); i++) {
            if (i == 2 && step < 3) continue;
            std::vector<float> g = randv(sizes[i], 100 * step + i, -0.01f, 0.01f);
            std::copy(g.begin(), g.end(), cpu[i].grad());
            dev[i].backend().copy_to_device(dev[i].grad(), g.data(), g.size() * sizeof(float));
        }
        if (step == 5) {  // a resume: the step counts come from a checkpoint
            oc.param_steps() = {10, 10, 7};
            od.param_steps() = {10, 10, 7};
        }
        // clipping: off (a large limit) on odd steps, on (coefficient ~0.5) on even steps; none at all
        // in step 6 (no clip_and_read: the update takes the gradient as it is)
        const float norm_cpu = clip_grad_norm(oc.params(), 1e9f);
        const float max_norm = step % 2 ? 1e9f : 0.5f * norm_cpu;
        // one extra launch on even steps: the emulator alternates the threads' order per launch, so
        // the norm's kernels run in both orders over the test (a missing barrier shows in one)
        if (step % 2 == 0) (void)(dev[1] * 1.0f);
        const uint64_t l0 = device_counters().launches;
        if (step < 6) {
            if (step % 2 == 0) clip_grad_norm(oc.params(), max_norm);
            const StepScalars s = od.clip_and_read(od.params(), max_norm, loss);
            CHECK(s.grad_norm == doctest::Approx(norm_cpu).epsilon(1e-5));
            CHECK(s.loss == 3.25f);
        }
        od.step();
        CHECK(device_counters().launches - l0 == (step < 6 ? 3u : 1u));  // the norm, the coefficient, the update
        oc.step();
        for (size_t i = 0; i < sizes.size(); i++) {
            CAPTURE(i);
            CHECK_PARITY(dev[i].to(Device::CPU).to_vector(), cpu[i].to_vector(), 1e-6f, 1e-5f);
        }
        CHECK(od.param_steps() == oc.param_steps());
    }
}

TEST_CASE("AdamW on the device: the norm covers the optimiser's own parameters, all on one device") {
    TestDevice dev_scope;
    Tensor a = Tensor::from({2}, {1.0f, 2.0f}).to(Device::CUDA).requires_grad();
    Tensor b = Tensor::from({2}, {1.0f, 2.0f}).to(Device::CUDA).requires_grad();
    AdamW o({ParamGroup{{a}, 1.0f, 0.0f}}, 1e-2f);
    CHECK_THROWS_WITH_AS(o.clip_and_read({a, b}, 1.0f, Tensor()), doctest::Contains("the optimiser's own 1 parameters"), Error);
    Tensor c = Tensor::from({2}, {1.0f, 2.0f}).requires_grad();
    CHECK_THROWS_WITH_AS(AdamW({ParamGroup{{a, c}, 1.0f, 0.0f}}, 1e-2f), doctest::Contains("all or none"), Error);
}
