// The cube slice: the worked example of src/core/tape.h, tested like every op.
#include "op_test.h"

OP_TEST(cube, "y = x^3 (the worked example of adding an op)", {0}) {
    return {
        OpCase("2 x 3", {rnd({2, 3}, 1)}, [](Inputs x) { return cube(x[0]); }),
        OpCase("one element", {T({1}, {2.0f})}, [](Inputs x) { return cube(x[0]); }),
        OpCase("1000 elements: more than a block", {rnd({1000}, 2)}, [](Inputs x) { return cube(x[0]); }).no_gradcheck(),
        OpCase("no element", {rnd({0}, 3)}, [](Inputs x) { return cube(x[0]); }),
    };
}

TEST_CASE("op cube: a hand-computed value and gradient") {
    Tensor x = T({2}, {2.0f, -1.0f});
    x.requires_grad();
    Tensor y = cube(x);
    CHECK(y.to_vector() == std::vector<float>{8.0f, -1.0f});
    tape().backward(sum(y));
    CHECK(x.grad_tensor().to_vector() == std::vector<float>{12.0f, 3.0f});  // 3 x^2
}
