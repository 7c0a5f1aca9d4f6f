// bench_images — make bench, pictures: our JPEG decoding and OpenCLIP preprocessing (one thread and
// all threads), and ViT-B/32's image tower (random weights) on the CPU, in images per second.
//   bench_images DIR REPS      DIR: JPEGs (tools/bench_images.py make writes Flickr30K-sized ones)
// Prints "decode N", "preprocess N", "decode_threads N", "vit_b_32 N" (images/s), one a line.
#include <omp.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "../src/core/check.h"
#include "../src/core/tape.h"
#include "../src/data/image.h"
#include "../src/nn/clip.h"
#include "../src/train/clip_index.h"
#include "bench_timing.h"

using namespace vsd;

static int body(int argc, char** argv) {
    ENSURE(argc >= 3, "usage: bench_images DIR REPS");
    const std::string dir = argv[1];
    const int reps = std::atoi(argv[2]);
    std::vector<std::string> blobs;
    for (const std::string& f : list_images(dir)) {
        std::ifstream in(dir + "/" + f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        blobs.push_back(ss.str());
    }
    ENSURE(!blobs.empty(), "%s: no JPEGs", dir.c_str());
    const double n = (double)blobs.size();
    auto decode = [&](bool pre, int threads) {
        return median_seconds(reps, [&] {
#pragma omp parallel for schedule(dynamic) num_threads(threads)
            for (size_t i = 0; i < blobs.size(); i++) {
                const Image im = image_decode((const uint8_t*)blobs[i].data(), blobs[i].size(), "bench");
                if (pre) {
                    std::vector<float> out(3 * 224 * 224);
                    clip_preprocess(to_rgb(im), out.data());
                }
            }
        });
    };
    std::printf("decode %.1f\n", n / decode(false, 1));
    std::printf("preprocess %.1f\n", n / decode(true, 1));
    std::printf("decode_threads %.1f\n", n / decode(true, omp_get_max_threads()));
    Rng rng(0);
    ClipConfig c;  // ViT-B/32's sizes
    Clip clip(c, rng);
    NoGrad ng;
    const Tensor x = Tensor::randn({16, 3, 224, 224}, rng);
    std::printf("vit_b_32 %.1f\n", 16.0 / median_seconds(reps, [&] { (void)clip.encode_image(x); }));
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
