// Pictures in (src/data/jpeg.*, png.*, image.*): decoded pixels against Debian's python3-pil
// (libjpeg-turbo, zlib), OpenCLIP's preprocessing against open_clip/torchvision, hand-made cases,
// and hostile input (every truncation, seeded byte mutations). Fixtures: tools/make_image_fixtures.py.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../src/core/rng.h"
#include "../src/data/image.h"
#include "../src/data/jpeg.h"
#include "../src/data/npy.h"
#include "../src/data/png.h"
#include "helpers.h"

namespace fs = std::filesystem;

static std::string read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// the files of tests/fixtures/image/<sub> ending in `ext`, sorted
static std::vector<std::string> fixture_files(const std::string& sub, const std::string& ext) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(fixture("image/" + sub)))
        if (e.path().extension() == ext) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

// Compare a decoded image with the reference pixels saved beside it (<stem>.npy, uint8 (H, W[, 3])).
// Returns the largest difference; counts the pixels that differ.
static int compare_with_npy(const Image& im, const std::string& npy_path, int64_t* differing, int64_t* total) {
    const Tensor ref = npy_load(npy_path);
    const bool grey = ref.ndim() == 2;
    REQUIRE(ref.size(0) == im.height);
    REQUIRE(ref.size(1) == im.width);
    REQUIRE(im.channels == (grey ? 1 : 3));
    const float* r = ref.data();
    int worst = 0;
    for (size_t i = 0; i < im.pixels.size(); i++) {
        const int d = std::abs((int)im.pixels[i] - (int)r[i]);
        worst = std::max(worst, d);
        *differing += d != 0;
    }
    *total += (int64_t)im.pixels.size();
    return worst;
}

static std::string stem(const std::string& path) { return fs::path(path).replace_extension("").string(); }

TEST_CASE("jpeg: every fixture decodes to libjpeg-turbo's pixels (PIL), exactly") {
    const auto files = fixture_files("jpeg", ".jpg");
    REQUIRE(files.size() >= 28);
    int64_t differing = 0, total = 0;
    for (const std::string& f : files) {
        INFO(f);
        const Image im = image_read(f);
        CHECK(compare_with_npy(im, stem(f) + ".npy", &differing, &total) == 0);
    }
    MESSAGE(files.size() << " JPEGs, " << total << " samples, " << differing << " differ from PIL's");
}

TEST_CASE("jpeg: the kinds the fixtures cover are what the names say") {
    // the frame types and markers each fixture was made to exercise are really in the files
    auto has = [](const std::string& name, const char* marker) {
        const std::string b = read_bytes(fixture("image/jpeg/" + name + ".jpg"));
        return b.find(std::string(marker, 2)) != std::string::npos;
    };
    CHECK(has("q90_420_progressive", "\xFF\xC2"));
    CHECK(has("q95_444", "\xFF\xC0"));
    CHECK(has("restart1_420", "\xFF\xDD"));
    CHECK(has("restart1_420", "\xFF\xD2"));  // a restart interval per MCU row: RST0..RST2
    CHECK(has("restart2_420_progressive", "\xFF\xC2"));
    CHECK(has("rgb_adobe", "\xFF\xEE"));
    CHECK(jpeg_orientation((const uint8_t*)read_bytes(fixture("image/jpeg/orientation_6.jpg")).data(),
                           read_bytes(fixture("image/jpeg/orientation_6.jpg")).size()) == 6);
    const Image turned = image_read(fixture("image/jpeg/orientation_6.jpg"));
    CHECK(turned.width == 17);  // 23 x 17 stored, shown turned a quarter
    CHECK(turned.height == 23);
    ImageOptions raw;
    raw.exif_orientation = false;
    const Image stored = image_read(fixture("image/jpeg/orientation_6.jpg"), raw);
    CHECK(stored.width == 23);
}

TEST_CASE("jpeg: orientations by hand on a 3 x 2 picture") {
    Image im;
    im.width = 3; im.height = 2; im.channels = 1;
    im.pixels = {1, 2, 3, 4, 5, 6};  // rows: 1 2 3 / 4 5 6
    auto px = [](const Image& m) { return std::vector<int>(m.pixels.begin(), m.pixels.end()); };
    CHECK(px(apply_orientation(im, 1)) == std::vector<int>{1, 2, 3, 4, 5, 6});
    CHECK(px(apply_orientation(im, 2)) == std::vector<int>{3, 2, 1, 6, 5, 4});
    CHECK(px(apply_orientation(im, 3)) == std::vector<int>{6, 5, 4, 3, 2, 1});
    CHECK(px(apply_orientation(im, 4)) == std::vector<int>{4, 5, 6, 1, 2, 3});
    CHECK(px(apply_orientation(im, 5)) == std::vector<int>{1, 4, 2, 5, 3, 6});  // transpose: 1 4 / 2 5 / 3 6
    CHECK(px(apply_orientation(im, 6)) == std::vector<int>{4, 1, 5, 2, 6, 3});  // clockwise: 4 1 / 5 2 / 6 3
    CHECK(px(apply_orientation(im, 7)) == std::vector<int>{6, 3, 5, 2, 4, 1});
    CHECK(px(apply_orientation(im, 8)) == std::vector<int>{3, 6, 2, 5, 1, 4});  // anticlockwise
    CHECK(apply_orientation(im, 6).width == 2);
}

TEST_CASE("png: every fixture decodes to PIL's pixels (and the hand-made ones to their source)") {
    const auto files = fixture_files("png", ".png");
    REQUIRE(files.size() >= 12);
    for (const std::string& f : files) {
        INFO(f);
        int64_t differing = 0, total = 0;
        CHECK(compare_with_npy(image_read(f), stem(f) + ".npy", &differing, &total) == 0);
    }
}

TEST_CASE("png: our writer's files read back; inflate by hand") {
    std::vector<uint8_t> px(7 * 5 * 3);
    for (size_t i = 0; i < px.size(); i++) px[i] = (uint8_t)(i * 37 % 251);
    const std::string png = png_encode(px.data(), 7, 5);
    const Image im = image_decode((const uint8_t*)png.data(), png.size(), "ours.png");
    CHECK(im.width == 7);
    CHECK(im.height == 5);
    CHECK(im.pixels == px);
    // a stored block: BFINAL 1, type 00, then LEN 3 / NLEN, "abc"
    const uint8_t stored[] = {0x01, 0x03, 0x00, 0xFC, 0xFF, 'a', 'b', 'c'};
    CHECK(inflate(stored, sizeof stored, 100, "t") == "abc");
    CHECK_THROWS_WITH(inflate(stored, sizeof stored, 2, "t"), doctest::Contains("inflates to more than"));
    // the fixed-code stream of five zeros from tests/test_png.cpp: a literal, then a match of 4 at distance 1
    const uint8_t runs[] = {0x63, 0x00, 0x01, 0x00};
    CHECK(inflate(runs, sizeof runs, 100, "t") == std::string(5, '\0'));
}

TEST_CASE("image: OpenCLIP's preprocessing, against open_clip's own transform") {
    // size 64 on pictures wider, taller, square, grey; size 224 on a 300 x 201 one (an odd crop offset)
    float worst = 0;
    for (const char* name : {"landscape", "portrait", "odd_crop", "grey", "square"}) {
        INFO(name);
        const Image im = image_read(fixture(std::string("image/pre/") + name + ".png"));
        ClipPreprocess p;
        p.size = 64;
        std::vector<float> out(3 * 64 * 64);
        clip_preprocess(im, out.data(), p);
        const Tensor ref = npy_load(fixture(std::string("image/pre/") + name + "_64.npy"));
        REQUIRE(ref.numel() == (int64_t)out.size());
        for (size_t i = 0; i < out.size(); i++) worst = std::max(worst, std::fabs(out[i] - ref.data()[i]));
    }
    CHECK(worst <= 1e-6f);
    const Image big = image_read(fixture("image/pre/odd_crop.png"));
    const Image crop = clip_resize_crop(big);
    const Tensor ref = npy_load(fixture("image/pre/odd_crop_224_u8.npy"));
    REQUIRE(ref.numel() == (int64_t)crop.pixels.size());
    int64_t differ = 0;
    for (size_t i = 0; i < crop.pixels.size(); i++) differ += crop.pixels[i] != (uint8_t)ref.data()[i];
    CHECK(differ == 0);
    MESSAGE("preprocessing: largest difference from open_clip " << worst << "; 224 crop: " << differ << " samples differ");
}

TEST_CASE("image: Pillow's resampling by hand") {
    Image flat;
    flat.width = 9; flat.height = 4; flat.channels = 3;
    flat.pixels.assign(9 * 4 * 3, 77);
    const Image r = resize_pillow(flat, 4, 7);  // weights sum to one: flat stays flat
    CHECK(r.width == 4);
    CHECK(r.height == 7);
    CHECK(std::all_of(r.pixels.begin(), r.pixels.end(), [](uint8_t v) { return v == 77; }));
    // halving 0, 100 with the triangle filter: the output centre 1.0 sits between them: 50
    Image two;
    two.width = 2; two.height = 1; two.channels = 1;
    two.pixels = {0, 100};
    CHECK(resize_pillow(two, 1, 1, "bilinear").pixels[0] == 50);
}

// Every prefix of a file (and seeded byte mutations) either decodes or throws one vsd::Error line
// that names the file and a byte offset.
static void hostile(const std::string& path, int mutations, uint64_t seed, int* rejected, int* accepted) {
    const std::string bytes = read_bytes(path);
    const std::string name = fs::path(path).filename().string();
    auto attempt = [&](const std::string& b) {
        try {
            (void)image_decode((const uint8_t*)b.data(), b.size(), name);
            ++*accepted;
        } catch (const Error& e) {
            const std::string m = e.what();
            CHECK(m.find(name + ": byte ") != std::string::npos);
            CHECK(m.find('\n') == std::string::npos);
            ++*rejected;
        }
    };
    for (size_t n = 0; n < bytes.size(); n += (n < 700 ? 1 : 7)) attempt(bytes.substr(0, n));
    Rng rng(seed);
    for (int i = 0; i < mutations; i++) {
        std::string b = bytes;
        const int edits = 1 + (int)(rng.next_u64() % 4);
        for (int e = 0; e < edits; e++) {
            const size_t at = rng.next_u64() % b.size();
            switch (rng.next_u64() % 3) {
                case 0: b[at] = (char)(rng.next_u64() & 255); break;
                case 1: b[at] ^= (char)(1 << (rng.next_u64() % 8)); break;
                default: b.erase(at, 1 + rng.next_u64() % 8); break;
            }
            if (b.empty()) b = "x";
        }
        attempt(b);
    }
}

TEST_CASE("jpeg and png: every truncation is refused with the file and byte offset; mutations never crash") {
    int rejected = 0, accepted = 0;
    for (const char* f : {"jpeg/q90_420_progressive.jpg", "jpeg/restart1_420.jpg", "jpeg/q75_422.jpg",
                          "jpeg/grey_q70_progressive.jpg", "jpeg/orientation_6.jpg", "png/rgb.png", "png/adam7_rgb.png",
                          "png/palette_16.png"})
        hostile(fixture(std::string("image/") + f), 400, 11, &rejected, &accepted);
    MESSAGE(rejected << " refused, " << accepted << " decoded");
    CHECK(rejected > 3000);
}

TEST_CASE("jpeg: what is refused, and how the error reads") {
    const std::string good = read_bytes(fixture("image/jpeg/q95_444.jpg"));
    auto err = [](const std::string& b) -> std::string {
        try { image_decode((const uint8_t*)b.data(), b.size(), "x.jpg"); } catch (const Error& e) { return e.what(); }
        return "(decoded)";
    };
    CHECK(err("GIF89a....").find("x.jpg: byte 0: neither a JPEG nor a PNG (it starts with 47 49 46 38)") != std::string::npos);
    CHECK(err(good.substr(0, good.size() - 2)).find("end-of-image marker") != std::string::npos);
    CHECK(err(good.substr(0, good.size() / 2)).find("ends after") != std::string::npos);
    const size_t sof = good.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    std::string b = good;
    b[sof + 1] = (char)0xC9;  // arithmetic-coded
    CHECK(err(b).find("SOF9") != std::string::npos);
    b = good;
    b[sof + 4] = 12;  // 12-bit samples
    CHECK(err(b).find("12-bit samples") != std::string::npos);
    b = good;
    b[sof + 5] = b[sof + 6] = 0;  // height 0
    CHECK(err(b).find("DNL") != std::string::npos);
    b = good;
    b[sof + 5] = b[sof + 6] = (char)0xFF;  // 65535 rows in a file of a few kB
    CHECK(err(b).find("bytes of scan data") != std::string::npos);
}

TEST_CASE("image: several threads decode what one does; the first bad file stops it with its name") {
    std::vector<std::string> files = fixture_files("jpeg", ".jpg");
    const std::vector<Image> many = image_read_many(files, 2, false);
    REQUIRE(many.size() == files.size());
    for (size_t i = 0; i < files.size(); i++) CHECK(many[i].pixels == to_rgb(image_read(files[i])).pixels);
    const std::string dir = temp_dir("bad_images");
    std::ofstream(dir + "/broken.jpg", std::ios::binary) << read_bytes(files[0]).substr(0, 300);
    files.push_back(dir + "/broken.jpg");
    CHECK_THROWS_WITH(image_read_many(files, 2, false), doctest::Contains("broken.jpg: byte"));
}
