// The gemm slice: matmul and linear (kernels/gemm.*, src/ops/gemm.cpp). Versions 1 (naive), 2
// (shared-memory tiles) and 3 (cuBLAS, or its column-major emulation) run every case.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>

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

// ---- values by hand or from independent formulas, and gradient checks ---------------------------

static std::vector<double> gemm_double(bool ta, bool tb, int M, int N, int K, const std::vector<float>& A,
                                       const std::vector<float>& B) {
    std::vector<double> C((size_t)M * N, 0.0);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < K; k++)
                C[(size_t)i * N + j] += (double)(ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k]) *
                                        (tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j]);
    return C;
}

TEST_CASE("gemm: blocked kernel equals the definition at edge sizes, all transposes") {
    const int sizes[][3] = {{1, 1, 1}, {1, 33, 7}, {31, 1, 5}, {8, 32, 256}, {9, 33, 257}, {33, 31, 32},
                            {200, 70, 300}, {5, 3100, 3}, {150, 40, 513}};
    Rng rng(3);
    for (auto& s : sizes)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = s[0], N = s[1], K = s[2];
                CAPTURE(M); CAPTURE(N); CAPTURE(K); CAPTURE(ta); CAPTURE(tb);
                std::vector<float> A((size_t)M * K), B((size_t)K * N), C((size_t)M * N, NAN), Cn((size_t)M * N, NAN);
                // small integers: every summation order is exact (the cutlass trick)
                for (float& v : A) v = (float)((int)rng.randint(7) - 3);
                for (float& v : B) v = (float)((int)rng.randint(7) - 3);
                gemm_cpu(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.0f, C.data(), N);
                gemm_naive_cpu(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.0f, Cn.data(), N);
                std::vector<double> ref = gemm_double(ta, tb, M, N, K, A, B);
                bool exact = true, exact_naive = true;
                for (size_t i = 0; i < C.size(); i++) {
                    exact = exact && C[i] == (float)ref[i];  // NaN (unwritten) fails too
                    exact_naive = exact_naive && Cn[i] == (float)ref[i];
                }
                CHECK(exact);
                CHECK(exact_naive);
            }
}

TEST_CASE("gemm: every instruction set's blocked kernel this CPU runs equals the definition (run-time choice)") {
    const int sizes[][3] = {{1, 1, 1}, {7, 17, 3}, {13, 33, 257}, {97, 50, 300}, {6, 3100, 5}};
    Rng rng(4);
    int ran = 0;
    for (const char* isa : {"avx512", "avx2", "generic"})
        for (auto& s : sizes)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    const int M = s[0], N = s[1], K = s[2];
                    CAPTURE(isa); CAPTURE(M); CAPTURE(N); CAPTURE(K); CAPTURE(ta); CAPTURE(tb);
                    std::vector<float> A((size_t)M * K), B((size_t)K * N), C((size_t)M * N);
                    for (float& v : A) v = (float)((int)rng.randint(7) - 3);  // small integers: exact in any order
                    for (float& v : B) v = (float)((int)rng.randint(7) - 3);
                    for (float& v : C) v = (float)((int)rng.randint(5) - 2);  // C += ...: the start counts
                    const std::vector<float> C0 = C;
                    if (!gemm_blocked_cpu(isa, ta, tb, M, N, K, 2.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, C.data(), N))
                        break;  // this CPU lacks it
                    ran++;
                    std::vector<double> ref = gemm_double(ta, tb, M, N, K, A, B);
                    bool exact = true;
                    for (size_t i = 0; i < C.size(); i++) exact = exact && C[i] == (float)(C0[i] + 2.0 * ref[i]);
                    CHECK(exact);
                }
    CHECK(ran >= 20);  // generic at least, all 5 shapes x 4 transposes
    std::printf("note: gemm_cpu runs the %s kernel here\n", gemm_cpu_config());
}

// How the threads split C changes no element's arithmetic (each C element's sums run in the same order
// on one thread), so 1, 2 and 3 threads give the same bits, for every instruction set this CPU runs:
// split by columns (200 x 1000: several A blocks and a partial one, K over one depth block; N 7000:
// a thread's columns over one B block) and by rows. Small integers check the 2-thread result against
// the definition.
TEST_CASE("gemm: 1, 2 and 3 threads give the same bits (split by columns, by rows)") {
    struct Shape3 {
        int64_t M, N, K;
    };
    const int threads_before = omp_get_max_threads();
    for (const char* isa : {"avx512", "avx2", "generic"})
        for (Shape3 sh : {Shape3{200, 1000, 600}, Shape3{40, 7000, 30}, Shape3{300, 200, 520}})
            for (bool ta : {false, true}) {
                const int64_t M = sh.M, N = sh.N, K = sh.K;
                CAPTURE(isa);
                CAPTURE(M);
                CAPTURE(N);
                CAPTURE(ta);
                const std::vector<float> A = randv(M * K, 8), B = randv(K * N, 9);
                std::vector<std::vector<float>> C;
                for (int t : {1, 2, 3}) {
                    omp_set_num_threads(t);
                    C.emplace_back(M * N, 0.0f);
                    if (!gemm_blocked_cpu(isa, ta, false, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), N, C.back().data(), N))
                        break;
                }
                omp_set_num_threads(threads_before);
                if (C.size() < 3) break;  // this CPU lacks the instruction set
                CHECK(std::memcmp(C[0].data(), C[1].data(), C[0].size() * sizeof(float)) == 0);
                CHECK(std::memcmp(C[0].data(), C[2].data(), C[0].size() * sizeof(float)) == 0);
                std::vector<float> Ai(A.size()), Bi(B.size()), Ci((size_t)(M * N), 0.0f);
                for (size_t i = 0; i < A.size(); i++) Ai[i] = std::round(A[i] * 3);  // small integers: exact sums
                for (size_t i = 0; i < B.size(); i++) Bi[i] = std::round(B[i] * 3);
                omp_set_num_threads(2);
                gemm_blocked_cpu(isa, ta, false, M, N, K, 1.0f, Ai.data(), ta ? M : K, Bi.data(), N, Ci.data(), N);
                omp_set_num_threads(threads_before);
                const std::vector<double> ref = gemm_double(ta, false, (int)M, (int)N, (int)K, Ai, Bi);
                bool exact = true;
                for (size_t i = 0; i < Ci.size(); i++) exact = exact && Ci[i] == (float)ref[i];
                CHECK(exact);
            }
}

TEST_CASE("gemm: alpha, beta and strided C") {
    // A = [[1,2],[3,4]], B = [[5,6],[7,8]]; AB = [[19,22],[43,50]]
    float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
    float C[] = {1, 1, -9, 1, 1, -9};  // 2x2 inside a 2x3 buffer (ldc 3); column 2 untouched
    gemm_cpu(false, false, 2, 2, 2, 2.0f, A, 2, B, 2, 0.5f, C, 3);
    CHECK(C[0] == 38.5f);
    CHECK(C[1] == 44.5f);
    CHECK(C[2] == -9.0f);
    CHECK(C[3] == 86.5f);
    CHECK(C[4] == 100.5f);
    CHECK(C[5] == -9.0f);
    float D[] = {NAN, NAN, NAN, NAN};  // beta = 0 overwrites even NaN
    gemm_cpu(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, D, 2);
    CHECK(D[0] == 19.0f);
    CHECK(D[3] == 50.0f);
    float E[] = {1, 2, 3, 4};  // K = 0: C = beta * C
    gemm_cpu(false, false, 2, 2, 0, 1.0f, A, 2, B, 2, 2.0f, E, 2);
    CHECK(E[3] == 8.0f);
}

TEST_CASE("matmul: values, transposes, batched, shared right operand") {
    Tensor a = T({2, 2}, {1, 2, 3, 4}), b = T({2, 2}, {5, 6, 7, 8});
    CHECK(matmul(a, b).to_vector() == std::vector<float>{19, 22, 43, 50});
    CHECK(matmul(a, b, true, false).to_vector() == std::vector<float>{26, 30, 38, 44});  // a^T b
    CHECK(matmul(a, b, false, true).to_vector() == std::vector<float>{17, 23, 39, 53});  // a b^T
    Tensor ab = T({2, 1, 2}, {1, 2, 3, 4});  // batch of two row vectors
    CHECK(matmul(ab, b).to_vector() == std::vector<float>{19, 22, 43, 50});
    Tensor bb = T({2, 2, 1}, {1, 0, 0, 1});
    CHECK(matmul(ab, bb).to_vector() == std::vector<float>{1, 4});
    CHECK(matmul(T({0, 3}, {}), T({3, 2}, std::vector<float>(6, 1))).numel() == 0);  // empty batch
    CHECK_THROWS_WITH(matmul(T({2, 3}, std::vector<float>(6)), T({2, 3}, std::vector<float>(6))),
                      doctest::Contains("inner dimensions differ: a is (2, 3), b is (2, 3)"));
}

TEST_CASE("matmul: gradcheck, all transposes, batched and shared") {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            CAPTURE(ta); CAPTURE(tb);
            Tensor a = rnd(ta ? Shape{4, 3} : Shape{3, 4}, 1), b = rnd(tb ? Shape{5, 4} : Shape{4, 5}, 2);
            CHECK_GRAD([=](std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); }, {a, b});
        }
    CHECK_GRAD([](std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {rnd({2, 3, 4}, 3), rnd({2, 4, 2}, 4)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return matmul(in[0], in[1], false, true); },
               {rnd({2, 3, 4}, 5), rnd({5, 4}, 6)});
}

TEST_CASE("linear: values with and without bias; gradcheck") {
    Tensor x = T({2, 3}, {1, 0, -1, 2, 1, 0}), w = T({2, 3}, {1, 2, 3, 0, 1, 0}), b = T({2}, {10, 20});
    // x w^T = [[1-3, 0], [2+2, 1]] = [[-2, 0], [4, 1]]
    CHECK(linear(x, w).to_vector() == std::vector<float>{-2, 0, 4, 1});
    CHECK(linear(x, w, b).to_vector() == std::vector<float>{8, 20, 14, 21});
    CHECK(linear(T({1, 2, 3}, {1, 0, -1, 2, 1, 0}), w, b).shape() == Shape{1, 2, 2});
    CHECK_THROWS_WITH(linear(T({2, 4}, std::vector<float>(8)), w), doctest::Contains("does not end in in_features 3"));
    CHECK_GRAD([](std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
               {rnd({2, 3, 5}, 7), rnd({4, 5}, 8), rnd({4}, 9)});
    CHECK_GRAD([](std::vector<Tensor>& in) { return linear(in[0], in[1]); }, {rnd({1, 1}, 7), rnd({3, 1}, 8)});
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

// gemm_packed_cpu: B packed once (PackedB) gives gemm_cpu's bits exactly, for either split of the
// threads (N >= M and M > N), K over one depth block (700 > 512), N no multiple of a panel, both
// layouts of B, a transposed A, and every beta.
TEST_CASE("gemm_packed_cpu equals gemm_cpu bit for bit (B packed once, reused)") {
    struct Shape3 {
        int64_t M, N, K;
    };
    for (Shape3 sh : {Shape3{128, 3072 / 16, 700}, Shape3{300, 37, 65}, Shape3{1, 5, 3}, Shape3{7, 1000, 1}})
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (float beta : {0.0f, 1.0f, 0.5f}) {
                    const int64_t M = sh.M, N = sh.N, K = sh.K;
                    CAPTURE(M);
                    CAPTURE(N);
                    CAPTURE(K);
                    CAPTURE(ta);
                    CAPTURE(tb);
                    CAPTURE(beta);
                    const std::vector<float> A = randv(M * K, 3), B = randv(K * N, 4), C0 = randv(M * N, 5);
                    std::vector<float> want = C0, got = C0;
                    gemm_cpu(ta, tb, M, N, K, 0.75f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, want.data(), N);
                    const PackedB packed(tb, K, N, B.data(), tb ? K : N);
                    gemm_packed_cpu(ta, M, 0.75f, A.data(), ta ? M : K, packed, beta, got.data(), N);
                    CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
                    gemm_packed_cpu(ta, M, 0.75f, A.data(), ta ? M : K, packed, beta, got.data(), N);  // reused
                    gemm_cpu(ta, tb, M, N, K, 0.75f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, want.data(), N);
                    CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
                }
}

// bf16_from_float by hand. At 1 the BF16 step is 2^-7, so 1 + 2^-8 is a tie between 1 (even: its
// last mantissa bit 0) and 1 + 2^-7 (odd): it goes to 1; 1 + 3 2^-8 is a tie between 1 + 2^-7 (odd)
// and 1 + 2^-6 (even): up. Anything past a tie goes up; the largest FP32 rounds past the largest
// BF16 (0x7F7F) to infinity, as cvt.rn does; NaN stays NaN, infinities and signed zeros stay.
TEST_CASE("bf16: FP32 -> bfloat16 rounds to nearest even, by hand") {
    const float e8 = std::ldexp(1.0f, -8);
    CHECK(bf16_round(1.0f + e8) == 1.0f);
    CHECK(bf16_round(1.0f + 3 * e8) == 1.0f + std::ldexp(1.0f, -6));
    CHECK(bf16_round(1.0f + e8 + std::ldexp(1.0f, -20)) == 1.0f + std::ldexp(1.0f, -7));
    CHECK(bf16_round(-(1.0f + e8 + std::ldexp(1.0f, -20))) == -(1.0f + std::ldexp(1.0f, -7)));
    CHECK(bf16_from_float(1.0f) == 0x3F80);
    CHECK(bf16_from_float(-2.0f) == 0xC000);
    CHECK(bf16_from_float(3.14159265f) == 0x4049);  // 3.140625: 1.1001001 x 2^1
    CHECK(bf16_from_float(std::numeric_limits<float>::max()) == 0x7F80);  // +inf
    CHECK(bf16_from_float(std::numeric_limits<float>::infinity()) == 0x7F80);
    CHECK(bf16_from_float(-std::numeric_limits<float>::infinity()) == 0xFF80);
    CHECK(bf16_from_float(-0.0f) == 0x8000);
    CHECK(std::isnan(bf16_round(NAN)));
    const uint32_t low_nan = 0x7F800001u;  // a NaN whose only mantissa bit would be dropped
    float x;
    std::memcpy(&x, &low_nan, 4);
    CHECK(std::isnan(bf16_round(x)));
    CHECK(bf16_round(std::ldexp(1.0f, -130)) == std::ldexp(1.0f, -130));  // subnormals keep their top bits
    for (float y : {0.1f, -7.3e-5f, 123456.0f, 1e30f}) {
        CAPTURE(y);
        CHECK(std::fabs(bf16_round(y) - y) <= std::ldexp(std::fabs(y), -8));  // half a step: 2^-8 relative
    }
}

// BF16 (gemm_set_bf16, --precision bf16): version 3 rounds both operands to bfloat16 and sums in
// FP32. So (1) it equals the FP32 product of the rounded inputs, up to FP32 summation noise, and
// (2) it is within 2^-7 sum_k |a_ik b_kj| of the FP32 product (two roundings of 2^-8 relative each).
// On the GPU too: cuBLAS cannot skip the rounding (its inputs are 16-bit). Plain and batched (gaps,
// a shared B, transposes), which also checks the conversion's spans.
template <class Bk>
void parity_bf16() {
    VSD_RUN(Bk{}, gemm_set_bf16)(true);
    {   // by hand: (1 + 3 2^-8) + (1 + 2^-9) -> (1 + 2^-6) + 1 in BF16
        std::vector<float> A = {1.0f + 3 * std::ldexp(1.0f, -8), 1.0f + std::ldexp(1.0f, -9)}, B = {1.0f, 1.0f};
        Buf<Bk> dA(A), dB(B), dC(1);
        VSD_RUN(Bk{}, gemm)(false, false, 1, 1, 2, 1.0f, dA.d, 2, dB.d, 1, 0.0f, dC.d, 1, 3);
        CHECK(dC.get()[0] == 2.0f + std::ldexp(1.0f, -6));
    }
    for (int64_t v : {0, 1, 2}) {  // v 0: plain, 1: transposed A, 2: batched (shared B, gaps, transposed B)
        const int64_t M = 37, N = 29, K = 66, T = v == 2 ? 3 : 1;
        const bool ta = v == 1, tb = v == 2;
        CAPTURE(v);
        const int64_t sA = M * K + 5, sB = 0, sC = M * N + 3;
        std::vector<float> A = randv(T * sA, 11 + v), B = randv(K * N, 13 + v), Ar(A), Br(B);
        for (float& x : Ar) x = bf16_round(x);
        for (float& x : Br) x = bf16_round(x);
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<float> fp32(T * sC, 0.0f), rounded(T * sC, 0.0f), bound(T * sC, 0.0f);
        for (int64_t t = 0; t < T; t++) {
            gemm_naive_cpu(ta, tb, M, N, K, 1.0f, A.data() + t * sA, lda, B.data(), ldb, 0.0f, fp32.data() + t * sC, N);
            gemm_naive_cpu(ta, tb, M, N, K, 1.0f, Ar.data() + t * sA, lda, Br.data(), ldb, 0.0f, rounded.data() + t * sC, N);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++)
                    for (int64_t k = 0; k < K; k++)
                        bound[t * sC + i * N + j] += std::fabs((ta ? A[t * sA + k * M + i] : A[t * sA + i * K + k]) *
                                                               (tb ? B[j * K + k] : B[k * N + j]));
        }
        Buf<Bk> dA(A), dB(B), dC(std::vector<float>(T * sC, 0.0f));
        if (T == 1) VSD_RUN(Bk{}, gemm)(ta, tb, M, N, K, 1.0f, dA.d, lda, dB.d, ldb, 0.0f, dC.d, N, 3);
        else VSD_RUN(Bk{}, gemm_batched)(ta, tb, M, N, K, 1.0f, dA.d, lda, sA, dB.d, ldb, sB, 0.0f, dC.d, N, sC, T, 3);
        const std::vector<float> got = dC.get();
        double max_err = 0;
        for (int64_t t = 0; t < T; t++)
            for (int64_t e = 0; e < M * N; e++) {
                const int64_t i = t * sC + e;
                CHECK_MESSAGE(std::fabs((double)got[i] - rounded[i]) <= 1e-6 * bound[i] + 1e-6, "element " << i);
                const double err = std::fabs((double)got[i] - fp32[i]);
                CHECK_MESSAGE(err <= std::ldexp(1.0, -7) * bound[i] + 1e-5, "element " << i << ": error " << err);
                max_err = std::max(max_err, err);
            }
        CHECK(max_err > 1e-4);  // the rounding really happened
    }
    VSD_RUN(Bk{}, gemm_set_bf16)(false);
}
TEST_CASE("kernel parity: cuBLAS in BF16 (--precision bf16) rounds its inputs to bfloat16, sums in FP32, within the bound") {
    parity_bf16<Sim>();
#ifdef USE_CUDA
    if (cuda_available()) parity_bf16<Gpu>();
#endif
}
