// The patchify slice: images to patch rows for a ViT's patch embedding (kernels/patchify.*, src/ops/patchify.cpp).
#include "op_test.h"

OP_TEST(patchify, "images (B, C, H, W) to patch rows (B, H/p * W/p, C p p)", {0}) {
    return {
        OpCase("2 x 3 x 4 x 6, patches of 2", {rnd({2, 3, 4, 6}, 1)}, [](Inputs x) { return patchify(x[0], 2); }),
        OpCase("one patch covers the image", {rnd({1, 3, 5, 5}, 2)}, [](Inputs x) { return patchify(x[0], 5); }),
        OpCase("patches of 1: a permutation to channels last", {rnd({2, 2, 3, 2}, 3)}, [](Inputs x) { return patchify(x[0], 1); }),
        OpCase("3 x 3 x 32 x 32, patches of 8 (more than a block)", {rnd({3, 3, 32, 32}, 4)},
               [](Inputs x) { return patchify(x[0], 8); }).no_gradcheck(),
        OpCase("no image", {rnd({0, 3, 4, 4}, 5)}, [](Inputs x) { return patchify(x[0], 2); }),
    };
}

TEST_CASE("op patchify: by hand, and the same as a stride-p convolution") {
    // one 1-channel 2 x 4 image, patches of 2: [[0 1 2 3], [4 5 6 7]] -> patch 0 = 0 1 4 5, patch 1 = 2 3 6 7
    Tensor x = T({1, 1, 2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(patchify(x, 2).shape() == Shape{1, 2, 4});
    CHECK(patchify(x, 2).to_vector() == std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7});
    // a convolution with kernel = stride = p and weight w (O, C, p, p), computed by its definition,
    // equals patchify(x) @ w.reshape(O, C p p)^T
    const int64_t B = 2, C = 3, H = 6, W = 9, p = 3, O = 4;
    Tensor img = rnd({B, C, H, W}, 7), w = rnd({O, C, p, p}, 8);
    Tensor y = linear(patchify(img, p), reshape(w, {O, C * p * p}));
    for (int64_t b = 0; b < B; b++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t gy = 0; gy < H / p; gy++)
                for (int64_t gx = 0; gx < W / p; gx++) {
                    double s = 0;
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t ky = 0; ky < p; ky++)
                            for (int64_t kx = 0; kx < p; kx++)
                                s += (double)img.data()[((b * C + c) * H + gy * p + ky) * W + gx * p + kx] *
                                     w.data()[((o * C + c) * p + ky) * p + kx];
                    CHECK(y.data()[(b * (H / p) * (W / p) + gy * (W / p) + gx) * O + o] == doctest::Approx(s).epsilon(1e-5));
                }
    CHECK_THROWS_WITH(patchify(rnd({1, 3, 5, 4}, 9), 2), doctest::Contains("not whole 2 x 2 patches"));
}
