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
