// The PNG writer (src/data/png.*): the deflate stream by hand, the file's structure, the sizes.
// The full decode is checked independently by tools/check_png.py (Python's zlib), by hand.
#include <cstring>

#include "../src/data/checksum.h"
#include "../src/data/png.h"
#include "helpers.h"

static uint32_t be32(const std::string& s, size_t at) {
    return (uint32_t)(uint8_t)s[at] << 24 | (uint32_t)(uint8_t)s[at + 1] << 16 | (uint32_t)(uint8_t)s[at + 2] << 8 |
           (uint8_t)s[at + 3];
}

TEST_CASE("png: deflate by hand, RFC 1951's fixed codes") {
    // five zero bytes: header bits 1 (final), 01 (fixed); literal 0 = 00110000; a run of 4 = length
    // symbol 258 = 0000010, distance code 00000 (distance 1); end of block 0000000. Packed LSB first:
    // 0x63 0x00 0x01 0x00
    CHECK(deflate_runs(std::string(5, '\0')) == std::string("\x63\x00\x01\x00", 4));
    // two different bytes: no run. 'A' (65) = 0x30 + 65 = 01110001, 'B' = 01110010, then the end.
    // The stream, bit by bit: 1 1 0 | 0 1 1 1 0 0 0 1 | 0 1 1 1 0 0 1 0 | 0 0 0 0 0 0 0; in bytes
    // (first bit lowest): 11001110 = 0x73, 00101110 = 0x74, 01000000 = 0x02, 00 = 0x00
    CHECK(deflate_runs("AB") == std::string("\x73\x74\x02\x00", 4));
    CHECK(deflate_runs("") == std::string("\x03\x00", 2));  // just the end of block
}

TEST_CASE("png: signature, IHDR, chunk CRCs, zlib header and Adler-32; flat pictures are small") {
    const int W = 120, H = 90;
    std::vector<uint8_t> px(W * H * 3, 200);  // a grey picture with a red square
    for (int y = 30; y < 60; y++)
        for (int x = 40; x < 80; x++) px[(y * W + x) * 3 + 1] = px[(y * W + x) * 3 + 2] = 20;
    const std::string png = png_encode(px.data(), W, H);
    REQUIRE(png.size() > 8 + 25 + 12 + 12);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    size_t at = 8;
    std::vector<std::string> kinds;
    std::string idat;
    while (at < png.size()) {
        const uint32_t n = be32(png, at);
        const std::string kind = png.substr(at + 4, 4), data = png.substr(at + 8, n);
        CHECK(be32(png, at + 8 + n) == crc32((kind + data).data(), 4 + n));
        if (kind == "IHDR") {
            CHECK(be32(data, 0) == (uint32_t)W);
            CHECK(be32(data, 4) == (uint32_t)H);
            CHECK(data.substr(8) == std::string("\x08\x02\x00\x00\x00", 5));
        }
        if (kind == "IDAT") idat += data;
        kinds.push_back(kind);
        at += 12 + n;
    }
    CHECK(at == png.size());
    CHECK(kinds == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    REQUIRE(idat.size() > 6);
    CHECK(((uint8_t)idat[0] << 8 | (uint8_t)idat[1]) % 31 == 0);  // zlib's header check
    CHECK((idat[0] & 0x0F) == 8);                                  // deflate
    // the filtered rows this picture has, rebuilt by hand: row 0 Sub (the first pixel, then zeros);
    // rows with the square's top edge differ from the row above, the rest are Up (all zeros)
    std::string raw;
    for (int y = 0; y < H; y++) {
        std::string sub(1, '\x01'), up(1, '\x02');
        long cs = 0, cu = 0;
        for (int x = 0; x < W * 3; x++) {
            const uint8_t v = px[y * W * 3 + x], left = x >= 3 ? px[y * W * 3 + x - 3] : 0, above = y ? px[(y - 1) * W * 3 + x] : 0;
            sub.push_back((char)(uint8_t)(v - left));
            up.push_back((char)(uint8_t)(v - above));
            cs += std::abs((int8_t)(uint8_t)(v - left));
            cu += std::abs((int8_t)(uint8_t)(v - above));
        }
        raw += cu < cs ? up : sub;
    }
    CHECK(be32(idat, idat.size() - 4) == adler32(raw.data(), raw.size()));
    CHECK(png.size() < 1000);  // 32,400 bytes of pixels
    CHECK_THROWS_WITH(png_encode(px.data(), 0, 5), doctest::Contains("png_encode: a 0 x 5 picture"));
}
