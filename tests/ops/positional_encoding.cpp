// The positional_encoding slice: GPO's position codes (kernels/positional_encoding.*, src/ops/positional_encoding.cpp).
#include "op_test.h"

OP_TEST(positional_encoding, "GPO's sinusoidal codes of the real positions, zeros for the padding (no gradient)", {0}) {
    return {
        OpCase("lengths 5 2 1, N 5, P 32", {Tensor::from_i64({3}, {5, 2, 1})}, [](Inputs x) { return positional_encoding(x[0], 5, 32); })
            .tol(1e-6, 1e-5),
        OpCase("36 regions, P 2", {Tensor::from_i32({2}, {36, 17})}, [](Inputs x) { return positional_encoding(x[0], 36, 2); })
            .tol(1e-6, 1e-5),
        OpCase("no sample", {Tensor::from_i64({0}, {})}, [](Inputs x) { return positional_encoding(x[0], 4, 8); }),
    };
}

TEST_CASE("op positional_encoding: hand-computed (P 4: w = 1 and 0.01)") {
    const std::vector<float> pe = positional_encoding(Tensor::from_i64({1}, {2}), 3, 4).to_vector();
    const std::vector<double> want = {0, 1, 0, 1,  std::sin(1.0), std::cos(1.0), std::sin(0.01), std::cos(0.01),  0, 0, 0, 0};
    REQUIRE(pe.size() == want.size());
    for (size_t i = 0; i < pe.size(); i++) CHECK(pe[i] == doctest::Approx(want[i]).epsilon(1e-6));
}
