// The gemm slice: matmul and linear (kernels/gemm.*, src/ops/gemm.cpp). Versions 1 (naive), 2
// (shared-memory tiles) and 3 (cuBLAS, or its column-major emulation) run every case.
#include "../../kernels/gemm.h"
#include "kernel_parity.h"
#include "op_test.h"

OP_TEST(gemm, "matmul (2-d, batched, shared b, every transpose) and linear", {1, 2, 3}) {
    std::vector<OpCase> cases;
    cases.push_back(OpCase("5 x 3 @ 3 x 4", {rnd({5, 3}, 14), rnd({3, 4}, 15)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    cases.push_back(OpCase("33 x 17 @ 17 x 65 (past a tile)", {rnd({33, 17}, 16), rnd({17, 65}, 17)},
                           [](Inputs x) { return matmul(x[0], x[1]); }).no_gradcheck());
    cases.push_back(OpCase("1 x 1 @ 1 x 1", {rnd({1, 1}, 18), rnd({1, 1}, 19)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    cases.push_back(OpCase("K 0: a zero product", {rnd({3, 0}, 20), rnd({0, 2}, 21)}, [](Inputs x) { return matmul(x[0], x[1]); }));
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (bool shared : {false, true}) {
                const int64_t M = 3, K = 5, N = 4;
                Shape sa = ta ? Shape{2, 3, K, M} : Shape{2, 3, M, K};
                Shape sb = tb ? Shape{N, K} : Shape{K, N};
                if (!shared) sb.insert(sb.begin(), {2, 3});
                const std::string l = std::string("4-d batch") + (ta ? ", a^T" : "") + (tb ? ", b^T" : "") + (shared ? ", b shared" : "");
                cases.push_back(OpCase(l, {rnd(sa, 40), rnd(sb, 41)}, [=](Inputs x) { return matmul(x[0], x[1], ta, tb); }));
            }
    cases.push_back(OpCase("linear (2, 3, 6) -> 5", {rnd({2, 3, 6}, 20), rnd({5, 6}, 21), rnd({5}, 22)},
                           [](Inputs x) { return linear(x[0], x[1], x[2]); }));
    cases.push_back(OpCase("linear without bias", {rnd({4, 6}, 23), rnd({3, 6}, 24)}, [](Inputs x) { return linear(x[0], x[1]); }));
    return cases;
}

// ---- kernel level: every version, called directly (kernel_parity.h) ----------------------------

template <class Bk>
void parity_gemm() {
    const int64_t sizes[][3] = {{1, 1, 1}, {1, 33, 7}, {17, 1, 16}, {31, 32, 33}, {40, 17, 70}};
    for (int v : {1, 2, 3})
        for (auto& s : sizes)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    const int64_t M = s[0], N = s[1], K = s[2];
                    CAPTURE(v); CAPTURE(M); CAPTURE(N); CAPTURE(K); CAPTURE(ta); CAPTURE(tb);
                    std::vector<float> A(M * K), B(K * N), C0(M * N);
                    Rng r(M * 100 + N * 10 + K);
                    for (float& e : A) e = (float)((int)r.randint(7) - 3);  // integers: exact in any order
                    for (float& e : B) e = (float)((int)r.randint(7) - 3);
                    for (float& e : C0) e = (float)((int)r.randint(5) - 2);
                    for (float beta : {0.0f, 2.0f}) {
                        std::vector<float> C = C0;
                        gemm_naive_cpu(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N);
                        Buf<Bk> dA(A), dB(B), dC(beta == 0.0f ? std::vector<float>(M * N, NAN) : C0);
                        VSD_RUN(Bk{}, gemm)((bool)ta, (bool)tb, M, N, K, 1.0f, dA.d, ta ? M : K, dB.d, tb ? K : N, beta, dC.d, N, v);
                        CHECK_PARITY(dC.get(), C, 0.0f, 0.0f);  // exact; NaN in C must not leak when beta = 0
                    }
                }
}
KERNEL_PARITY(parity_gemm, "GEMM naive, tiled and cuBLAS (column-major emulation), all transposes")

// Batched GEMM: every version against the CPU reference one product at a time, with a shared B
// (stride 0), strides larger than the matrices (gaps stay untouched), all transposes, beta 0 and 1.
template <class Bk>
void parity_gemm_batched() {
    const int64_t shapes[][4] = {{1, 1, 1, 1}, {3, 5, 7, 4}, {33, 17, 9, 3}};  // M N K batch
    for (int v : {1, 2, 3})
        for (auto& s : shapes)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    for (int shared = 0; shared < 2; shared++) {
                        const int64_t M = s[0], N = s[1], K = s[2], T = s[3];
                        CAPTURE(v); CAPTURE(M); CAPTURE(N); CAPTURE(K); CAPTURE(T); CAPTURE(ta); CAPTURE(tb); CAPTURE(shared);
                        const int64_t sA = M * K + 2, sB = shared ? 0 : K * N + 1, sC = M * N + 3;
                        std::vector<float> A(T * sA), B(shared ? K * N : T * sB), C0(T * sC);
                        Rng r(M + N + K);
                        for (float& e : A) e = (float)((int)r.randint(7) - 3);  // integers: exact in any order
                        for (float& e : B) e = (float)((int)r.randint(7) - 3);
                        for (float& e : C0) e = (float)((int)r.randint(5) - 2);
                        for (float beta : {0.0f, 1.0f}) {
                            std::vector<float> want = C0;
                            for (int64_t t = 0; t < T; t++)
                                gemm_naive_cpu(ta, tb, M, N, K, 1.0f, A.data() + t * sA, ta ? M : K, B.data() + t * sB,
                                               tb ? K : N, beta, want.data() + t * sC, N);
                            std::vector<float> init = C0;
                            if (beta == 0.0f)  // poison what must be overwritten; the gaps keep C0
                                for (int64_t t = 0; t < T; t++) std::fill(init.begin() + t * sC, init.begin() + t * sC + M * N, NAN);
                            Buf<Bk> dA(A), dB(B), dC(init);
                            VSD_RUN(Bk{}, gemm_batched)((bool)ta, (bool)tb, M, N, K, 1.0f, dA.d, ta ? M : K, sA, dB.d, tb ? K : N, sB,
                                             beta, dC.d, N, sC, T, v);
                            CHECK_PARITY(dC.get(), want, 0.0f, 0.0f);
                        }
                    }
}
KERNEL_PARITY(parity_gemm_batched, "batched GEMM (strided, shared B, gaps) naive, tiled and cuBLAS strided-batched")

// TF32 (gemm_set_tf32, --tf32 1): cuBLAS may round each input to 10 mantissa bits. The error of
// every output then stays within 2^-10 sum_k |a_ik b_kj| (each product's two roundings of at most
// 2^-11 relative each) plus FP32 noise. exact: the emulator, which always rounds; a GPU may pick
// an FP32 kernel for some shapes, so there only the bound is asserted.
template <class Bk>
void parity_tf32(bool exact) {
    VSD_RUN(Bk{}, gemm_set_tf32)(true);
    {   // by hand: 1 + 2^-11 is a tie between 1 and 1 + 2^-10 (rounds away); 1 + 2^-12 rounds to 1
        std::vector<float> A = {1.0f + std::ldexp(1.0f, -11), 1.0f + std::ldexp(1.0f, -12)}, B = {1.0f, 1.0f};
        Buf<Bk> dA(A), dB(B), dC(1);
        VSD_RUN(Bk{}, gemm)(false, false, 1, 1, 2, 1.0f, dA.d, 2, dB.d, 1, 0.0f, dC.d, 1, 3);
        const float tf32 = 2.0f + std::ldexp(1.0f, -10), fp32 = 2.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -12);
        if (exact) CHECK(dC.get()[0] == tf32);
        else CHECK((dC.get()[0] == tf32 || dC.get()[0] == fp32));
    }
    for (int64_t v : {0, 1}) {  // random values; transposed A in the second run
        const int64_t M = 40, N = 33, K = 70;
        const bool ta = v == 1;
        CAPTURE(ta);
        std::vector<float> A = randv(M * K, 5 + v), B = randv(K * N, 7 + v), C(M * N), bound(M * N, 0.0f);
        gemm_naive_cpu(ta, false, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), N, 0.0f, C.data(), N);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                for (int64_t k = 0; k < K; k++)
                    bound[i * N + j] += std::fabs((ta ? A[k * M + i] : A[i * K + k]) * B[k * N + j]);
        Buf<Bk> dA(A), dB(B), dC(M * N);
        VSD_RUN(Bk{}, gemm)(ta, false, M, N, K, 1.0f, dA.d, ta ? M : K, dB.d, N, 0.0f, dC.d, N, 3);
        std::vector<float> got = dC.get();
        double max_err = 0;
        for (int64_t i = 0; i < M * N; i++) {
            const double err = std::fabs((double)got[i] - C[i]);
            CHECK_MESSAGE(err <= std::ldexp(1.0, -10) * bound[i] + 1e-5, "element " << i << ": error " << err);
            max_err = std::max(max_err, err);
        }
        if (exact) CHECK(max_err > 1e-5);  // the rounding really happened
    }
    VSD_RUN(Bk{}, gemm_set_tf32)(false);
}
TEST_CASE("kernel parity: cuBLAS with TF32 rounds its inputs like tensor cores, within the error bound") {
    parity_tf32<Sim>(true);
#ifdef USE_CUDA
    if (cuda_available()) parity_tf32<Gpu>(false);
#endif
}

