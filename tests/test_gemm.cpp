// GEMM: the fast kernel equals the three-loop reference at awkward sizes and all transposes;
// matmul / linear values and gradients.
#include "../kernels/gemm.h"
#include "helpers.h"

// C = op(A) op(B) in double, straight from the definition (independent of both kernels)
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
