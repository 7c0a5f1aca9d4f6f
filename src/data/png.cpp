// png.cpp — PNG and zlib/deflate writing (png.h).
#include "png.h"

#include <cstdlib>
#include <vector>

#include "../core/check.h"
#include "checksum.h"

namespace vsd {

namespace {

// Deflate writes Huffman codes most-significant bit first into a little-endian bit stream; every
// other field (extra bits, block headers) least-significant bit first.
struct BitWriter {
    std::string out;
    uint32_t acc = 0;
    int n = 0;
    void bits(uint32_t v, int count) {  // LSB first
        for (int i = 0; i < count; i++) {
            acc |= ((v >> i) & 1u) << n;
            if (++n == 8) { out.push_back((char)acc); acc = 0; n = 0; }
        }
    }
    void code(uint32_t v, int count) {  // a Huffman code: MSB first
        for (int i = count - 1; i >= 0; i--) bits((v >> i) & 1u, 1);
    }
    void finish() { if (n) { out.push_back((char)acc); acc = 0; n = 0; } }
};

// the fixed literal/length code of symbol s (0..287)
void fixed_symbol(BitWriter& w, int s) {
    if (s < 144) w.code(0x30 + s, 8);
    else if (s < 256) w.code(0x190 + (s - 144), 9);
    else if (s < 280) w.code(s - 256, 7);
    else w.code(0xC0 + (s - 280), 8);
}

// a match length 3..258: its symbol 257..285 and extra bits
void length_code(BitWriter& w, int len) {
    static const int base[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                               35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const int extra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    int k = 28;
    while (base[k] > len) k--;
    fixed_symbol(w, 257 + k);
    w.bits((uint32_t)(len - base[k]), extra[k]);
}

void chunk(std::string& png, const char* type, const std::string& data) {
    auto be32 = [&](uint32_t v) { for (int s = 24; s >= 0; s -= 8) png.push_back((char)(v >> s)); };
    be32((uint32_t)data.size());
    const std::string td = std::string(type, 4) + data;
    png += td;
    be32(crc32(td.data(), td.size()));
}

}  // namespace

std::string deflate_runs(const std::string& bytes) {
    BitWriter w;
    w.bits(1, 1);  // BFINAL: the only block
    w.bits(1, 2);  // BTYPE 01: fixed Huffman codes
    size_t i = 0;
    while (i < bytes.size()) {
        fixed_symbol(w, (uint8_t)bytes[i]);  // the byte itself...
        size_t run = 0;                      // ...then how often it repeats right after
        while (i + 1 + run < bytes.size() && bytes[i + 1 + run] == bytes[i] && run < 258) run++;
        if (run >= 3) {
            length_code(w, (int)run);
            w.code(0, 5);  // distance code 0: distance 1, no extra bits
            i += 1 + run;
        } else {
            i += 1;
        }
    }
    fixed_symbol(w, 256);  // end of block
    w.finish();
    return w.out;
}

std::string png_encode(const uint8_t* rgb, int width, int height) {
    ENSURE(width > 0 && height > 0, "png_encode: a %d x %d picture", width, height);
    // filter each row with Sub or Up, whichever leaves the smaller sum of |byte| (as signed): flat
    // areas then become runs of zeros
    const size_t stride = (size_t)width * 3;
    std::string raw;
    raw.reserve((stride + 1) * height);
    std::vector<uint8_t> sub(stride), up(stride);
    for (int y = 0; y < height; y++) {
        const uint8_t* row = rgb + y * stride;
        long cost_sub = 0, cost_up = 0;
        for (size_t x = 0; x < stride; x++) {
            sub[x] = (uint8_t)(row[x] - (x >= 3 ? row[x - 3] : 0));
            up[x] = (uint8_t)(row[x] - (y > 0 ? row[x - stride] : 0));
            cost_sub += std::abs((int8_t)sub[x]);
            cost_up += std::abs((int8_t)up[x]);
        }
        const bool use_up = cost_up < cost_sub;
        raw.push_back(use_up ? 2 : 1);
        raw.append((const char*)(use_up ? up.data() : sub.data()), stride);
    }
    std::string z;
    z.push_back((char)0x78);  // zlib header: deflate, 32K window
    z.push_back((char)0x01);  // check bits: (0x78 << 8 | 0x01) % 31 == 0, no dictionary, fastest
    z += deflate_runs(raw);
    const uint32_t a = adler32(raw.data(), raw.size());
    for (int s = 24; s >= 0; s -= 8) z.push_back((char)(a >> s));
    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    for (uint32_t v : {(uint32_t)width, (uint32_t)height})
        for (int s = 24; s >= 0; s -= 8) ihdr.push_back((char)(v >> s));
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // depth 8, RGB, deflate, filters, no interlace
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", z);
    chunk(png, "IEND", "");
    return png;
}

}  // namespace vsd
