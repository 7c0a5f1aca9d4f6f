// png.cpp — PNG and zlib/deflate writing (png.h).
#include "png.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
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

// Match lengths 3..258 are symbols 257..285, each a base plus extra bits (RFC 1951 §3.2.5);
// distances 1..32768 are codes 0..29, likewise.
const int kLenBase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                          35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
const int kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
const int kDistBase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
const int kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

// a match length 3..258: its symbol 257..285 and extra bits
void length_code(BitWriter& w, int len) {
    int k = 28;
    while (kLenBase[k] > len) k--;
    fixed_symbol(w, 257 + k);
    w.bits((uint32_t)(len - kLenBase[k]), kLenExtra[k]);
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

// ---- reading: inflate ------------------------------------------------------------------------------
namespace vsd {

namespace {

// Deflate's bits come least-significant first; a Huffman code's bits arrive most-significant first.
struct InBits {
    const uint8_t* d;
    size_t n, pos = 0;
    uint64_t acc = 0;
    int count = 0;
    const std::string& name;
    size_t offset;
    [[noreturn]] void fail(const std::string& what) const {
        throw_error(__FILE__, __LINE__, strfmt("%s: byte %zu: %s", name.c_str(), offset + std::min(pos, n), what.c_str()),
                    "the PNG is damaged or truncated; re-save it with an image editor or PIL");
    }
    uint32_t bits(int k) {
        while (count < k) {
            if (pos >= n) fail("the compressed image data ends early (truncated file?)");
            acc |= (uint64_t)d[pos++] << count;
            count += 8;
        }
        const uint32_t v = (uint32_t)(acc & ((1ull << k) - 1));
        acc >>= k;
        count -= k;
        return v;
    }
};

// A canonical Huffman code given by the code length of each symbol: the codes of one length are
// consecutive and follow, doubled, the codes of the previous length. Decoding reads one bit at a
// time and asks whether the code so far falls among the `count[len]` codes of length len.
struct Canonical {
    int count[16] = {0};
    std::vector<int> symbols;  // ordered by (length, symbol)
};

Canonical canonical(const uint8_t* lengths, int n, InBits& in, const char* what) {
    Canonical h;
    for (int s = 0; s < n; s++) h.count[lengths[s]]++;
    h.count[0] = 0;
    int left = 1;  // codes still free at the current length
    for (int len = 1; len < 16; len++) {
        left = 2 * left - h.count[len];
        if (left < 0) in.fail(strfmt("the %s Huffman code is over-subscribed", what));
    }
    for (int len = 1; len < 16; len++)
        for (int s = 0; s < n; s++)
            if (lengths[s] == len) h.symbols.push_back(s);
    return h;
}

int decode(InBits& in, const Canonical& h) {
    int code = 0, first = 0, index = 0;  // first: the first code of this length
    for (int len = 1; len < 16; len++) {
        code |= (int)in.bits(1);
        if (code - first < h.count[len]) return h.symbols[index + code - first];
        index += h.count[len];
        first = (first + h.count[len]) << 1;
        code <<= 1;
    }
    in.fail("a bit pattern that is no code of the block's Huffman table");
}

}  // namespace

std::string inflate(const uint8_t* data, size_t size, size_t limit, const std::string& name, size_t offset) {
    InBits in{data, size, 0, 0, 0, name, offset};
    std::string out;
    bool last = false;
    while (!last) {
        last = in.bits(1);
        const int type = (int)in.bits(2);
        if (type == 0) {  // stored: byte-aligned LEN, ~LEN, then LEN bytes
            in.acc = 0;
            in.count = 0;
            if (in.pos + 4 > size) in.fail("a stored block's header runs past the data");
            const uint32_t len = data[in.pos] | data[in.pos + 1] << 8, nlen = data[in.pos + 2] | data[in.pos + 3] << 8;
            if ((len ^ 0xFFFF) != nlen) in.fail(strfmt("a stored block's length %u and its complement %u disagree", len, nlen));
            in.pos += 4;
            if (in.pos + len > size) in.fail("a stored block runs past the data");
            if (out.size() + len > limit) in.fail(strfmt("the data inflates to more than the %zu bytes the header implies", limit));
            out.append((const char*)data + in.pos, len);
            in.pos += len;
            continue;
        }
        if (type == 3) in.fail("a deflate block of type 3 (reserved)");
        uint8_t lengths[320] = {0};
        int nlit = 288, ndist = 30;
        if (type == 1) {  // fixed codes (RFC 1951 §3.2.6)
            for (int s = 0; s < 288; s++) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
            for (int s = 0; s < 30; s++) lengths[288 + s] = 5;
        } else {  // dynamic: the code lengths, themselves Huffman-coded
            nlit = (int)in.bits(5) + 257;
            ndist = (int)in.bits(5) + 1;
            const int ncl = (int)in.bits(4) + 4;
            if (nlit > 286 || ndist > 30) in.fail(strfmt("%d literal/length and %d distance codes; at most 286 and 30", nlit, ndist));
            static const int order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
            uint8_t cl[19] = {0};
            for (int i = 0; i < ncl; i++) cl[order[i]] = (uint8_t)in.bits(3);
            const Canonical clh = canonical(cl, 19, in, "code-length");
            for (int i = 0; i < nlit + ndist;) {
                const int sym = decode(in, clh);
                if (sym < 16) { lengths[i++] = (uint8_t)sym; continue; }
                int repeat = 0, value = 0;
                if (sym == 16) {
                    if (i == 0) in.fail("a code-length repeat with nothing before it");
                    value = lengths[i - 1];
                    repeat = 3 + (int)in.bits(2);
                } else {
                    repeat = sym == 17 ? 3 + (int)in.bits(3) : 11 + (int)in.bits(7);
                }
                if (i + repeat > nlit + ndist) in.fail("code lengths run past the table");
                while (repeat--) lengths[i++] = (uint8_t)value;
            }
            if (lengths[256] == 0) in.fail("the block has no end-of-block code");
            // the distance lengths follow the literal/length ones: move them to 288
            std::memmove(lengths + 288, lengths + nlit, ndist);
            std::memset(lengths + nlit, 0, 288 - nlit);
        }
        const Canonical lit = canonical(lengths, 288, in, "literal/length");
        const Canonical dist = canonical(lengths + 288, 30, in, "distance");
        for (;;) {
            const int sym = decode(in, lit);
            if (sym < 256) {
                if (out.size() >= limit) in.fail(strfmt("the data inflates to more than the %zu bytes the header implies", limit));
                out.push_back((char)sym);
                continue;
            }
            if (sym == 256) break;
            if (sym > 285) in.fail(strfmt("length symbol %d (at most 285)", sym));
            const int len = kLenBase[sym - 257] + (int)in.bits(kLenExtra[sym - 257]);
            const int dsym = decode(in, dist);
            if (dsym > 29) in.fail(strfmt("distance symbol %d (at most 29)", dsym));
            const size_t d = (size_t)kDistBase[dsym] + in.bits(kDistExtra[dsym]);
            if (d > out.size()) in.fail(strfmt("a match %zu bytes back, but only %zu bytes are out", d, out.size()));
            if (out.size() + len > limit) in.fail(strfmt("the data inflates to more than the %zu bytes the header implies", limit));
            for (int k = 0; k < len; k++) out.push_back(out[out.size() - d]);  // may overlap itself
        }
    }
    return out;
}

std::string gunzip(const std::string& bytes, const std::string& name, size_t limit) {
    const uint8_t* d = (const uint8_t*)bytes.data();
    const size_t n = bytes.size();
    auto fail = [&](size_t at, const std::string& what) {
        throw_error(__FILE__, __LINE__, strfmt("%s: byte %zu: %s", name.c_str(), at, what.c_str()),
                    "the file is damaged or not gzip; `gzip -t` checks it");
    };
    if (n < 18 || d[0] != 0x1F || d[1] != 0x8B || d[2] != 8) fail(0, "not a gzip file (expected 1F 8B 08)");
    const int flags = d[3];
    size_t at = 10;
    if (flags & 4) {  // FEXTRA: a length, then that many bytes
        if (at + 2 > n) fail(at, "the header's extra field runs past the file");
        at += 2 + (d[at] | d[at + 1] << 8);
    }
    for (int bit : {8, 16})  // FNAME, FCOMMENT: zero-terminated strings
        if (flags & bit) {
            while (at < n && d[at]) at++;
            at++;
        }
    if (flags & 2) at += 2;  // FHCRC
    if (at + 8 > n) fail(n, "the file ends inside the gzip header");
    const std::string out = inflate(d + at, n - 8 - at, limit, name, at);
    const uint32_t crc = (uint32_t)d[n - 8] | d[n - 7] << 8 | d[n - 6] << 16 | (uint32_t)d[n - 5] << 24;
    const uint32_t size = (uint32_t)d[n - 4] | d[n - 3] << 8 | d[n - 2] << 16 | (uint32_t)d[n - 1] << 24;
    if (crc != crc32(out.data(), out.size()) || size != (uint32_t)out.size())
        fail(n - 8, strfmt("the CRC-32 or size at the end (%08X, %u) disagree with the %zu bytes inflated", crc, size, out.size()));
    return out;
}

// ---- reading: PNG ---------------------------------------------------------------------------------
Image png_decode(const uint8_t* d, size_t n, const std::string& name) {
    auto fail = [&](size_t at, const std::string& what) {
        throw_error(__FILE__, __LINE__, strfmt("%s: byte %zu: %s", name.c_str(), at, what.c_str()),
                    "the PNG is damaged or truncated; re-save it with an image editor or PIL");
    };
    auto be32 = [&](size_t at) { return (uint32_t)d[at] << 24 | d[at + 1] << 16 | d[at + 2] << 8 | d[at + 3]; };
    if (n < 8 || std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0) fail(0, "not a PNG (no PNG signature)");
    uint32_t W = 0, H = 0;
    int depth = 0, ctype = -1, interlace = 0;
    std::vector<uint8_t> palette;
    std::string z;                                       // the IDAT chunks' data, joined
    std::vector<std::pair<size_t, size_t>> z_at;          // (offset in z, offset in the file)
    bool end = false;
    for (size_t pos = 8; !end;) {
        if (pos + 12 > n) fail(n, "the file ends before the IEND chunk (truncated?)");
        const uint32_t len = be32(pos);
        const std::string type((const char*)d + pos + 4, 4);
        if (len > n - pos - 12) fail(pos, strfmt("chunk %s declares %u bytes but %zu are left", type.c_str(), len, n - pos - 12));
        const size_t body = pos + 8;
        const uint32_t crc = crc32(d + pos + 4, 4 + len);
        if (crc != be32(body + len))
            fail(body + len, strfmt("chunk %s's CRC is %08X; its data gives %08X", type.c_str(), be32(body + len), crc));
        if (pos == 8 && type != "IHDR") fail(pos, "the first chunk is " + type + "; expected IHDR");
        if (type == "IHDR") {
            if (len != 13) fail(pos, strfmt("IHDR has %u bytes; expected 13", len));
            W = be32(body);
            H = be32(body + 4);
            depth = d[body + 8];
            ctype = d[body + 9];
            interlace = d[body + 12];
            const bool ok_depth = (ctype == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                                  (ctype == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                                  ((ctype == 2 || ctype == 4 || ctype == 6) && (depth == 8 || depth == 16));
            if (!ok_depth) fail(body + 8, strfmt("colour type %d at bit depth %d is not a valid PNG combination", ctype, depth));
            if (d[body + 10] != 0 || d[body + 11] != 0 || interlace > 1)
                fail(body + 10, "unknown compression, filter or interlace method");
            if (W == 0 || H == 0 || W > (1u << 30) || H > (1u << 30) || (uint64_t)W * H > 178956970ull)
                fail(body, strfmt("%u x %u pixels; expected 1..178,956,970 pixels (Pillow's limit)", W, H));
        } else if (type == "PLTE") {
            if (len % 3 || len > 768) fail(pos, strfmt("PLTE has %u bytes; expected a multiple of 3 up to 768", len));
            palette.assign(d + body, d + body + len);
        } else if (type == "IDAT") {
            z_at.push_back({z.size(), body});
            z.append((const char*)d + body, len);
        } else if (type == "IEND") {
            end = true;
        } else if (!(type[0] & 0x20)) {
            fail(pos, "unknown critical chunk " + type);
        }
        pos = body + len + 4;
    }
    if (z.empty()) fail(n, "no IDAT chunk: the PNG has no image data");
    if (ctype == 3 && palette.empty()) fail(n, "a palette image without a PLTE chunk");
    const int spp = ctype == 0 || ctype == 3 ? 1 : ctype == 2 ? 3 : ctype == 4 ? 2 : 4;  // samples per pixel
    const int bpp = std::max(1, spp * depth / 8);  // bytes per pixel, for the filters
    // Adam7: seven passes over sub-grids (start and step in x and y); no interlace: one pass
    struct Pass { int x0, y0, dx, dy; };
    const Pass adam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    const Pass whole[1] = {{0, 0, 1, 1}};
    const Pass* passes = interlace ? adam7 : whole;
    const int npass = interlace ? 7 : 1;
    size_t expect = 0;
    for (int p = 0; p < npass; p++) {
        const uint64_t pw = (W + passes[p].dx - 1 - passes[p].x0) / passes[p].dx, ph = (H + passes[p].dy - 1 - passes[p].y0) / passes[p].dy;
        if (pw && ph) expect += ph * (1 + (pw * spp * depth + 7) / 8);
    }
    if (z.size() < 2) fail(z_at[0].second, "the zlib stream is shorter than its header");
    const uint8_t cmf = (uint8_t)z[0], flg = (uint8_t)z[1];
    if ((cmf & 15) != 8 || (cmf << 8 | flg) % 31 != 0 || (flg & 0x20))
        fail(z_at[0].second, strfmt("zlib header %02X %02X: not deflate, or a preset dictionary", cmf, flg));
    const std::string raw = inflate((const uint8_t*)z.data() + 2, z.size() - 2, expect, name, z_at[0].second + 2);
    if (raw.size() != expect) fail(z_at.back().second, strfmt("the image data inflates to %zu bytes; %u x %u pixels need %zu", raw.size(), W, H, expect));

    Image im;
    im.width = (int)W;
    im.height = (int)H;
    im.channels = (ctype == 0 || ctype == 4) ? 1 : 3;
    im.pixels.assign((size_t)W * H * im.channels, 0);
    size_t at = 0;
    std::vector<uint8_t> prev, cur;
    for (int p = 0; p < npass; p++) {
        const Pass& ps = passes[p];
        const size_t pw = (W + ps.dx - 1 - ps.x0) / ps.dx, ph = (H + ps.dy - 1 - ps.y0) / ps.dy;
        if (!pw || !ph) continue;
        const size_t rowbytes = (pw * spp * depth + 7) / 8;
        prev.assign(rowbytes, 0);
        for (size_t y = 0; y < ph; y++) {
            const int filter = (uint8_t)raw[at];
            if (filter > 4) fail(z_at[0].second, strfmt("row %zu uses filter type %d; expected 0..4", y, filter));
            cur.assign(raw.begin() + at + 1, raw.begin() + at + 1 + rowbytes);
            at += 1 + rowbytes;
            // undo the filter: each byte was stored minus a prediction from its left (a), upper (b)
            // and upper-left (c) neighbours one pixel away
            for (size_t i = 0; i < rowbytes; i++) {
                const int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= (size_t)bpp ? prev[i - bpp] : 0;
                int pred = 0;
                if (filter == 1) pred = a;
                else if (filter == 2) pred = b;
                else if (filter == 3) pred = (a + b) / 2;
                else if (filter == 4) {  // Paeth: whichever of a, b, c is closest to a + b - c
                    const int q = a + b - c, pa = std::abs(q - a), pb = std::abs(q - b), pc = std::abs(q - c);
                    pred = (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
                }
                cur[i] = (uint8_t)(cur[i] + pred);
            }
            // samples to 8-bit pixels
            auto sample = [&](size_t k) -> int {  // the k-th sample of the row, scaled to 0..255
                if (depth == 8) return cur[k];
                if (depth == 16) return cur[2 * k];
                const int per = 8 / depth, shift = 8 - depth * (int)(k % per + 1);
                const int v = (cur[k / per] >> shift) & ((1 << depth) - 1);
                return ctype == 3 ? v : v * 255 / ((1 << depth) - 1);
            };
            const size_t oy = ps.y0 + y * ps.dy;
            for (size_t x = 0; x < pw; x++) {
                uint8_t* o = im.row((int)oy) + (ps.x0 + x * ps.dx) * im.channels;
                if (ctype == 3) {
                    const int idx = sample(x);
                    if ((size_t)(3 * idx + 2) >= palette.size())
                        fail(z_at[0].second, strfmt("palette index %d, but PLTE has %zu entries", idx, palette.size() / 3));
                    std::memcpy(o, &palette[3 * idx], 3);
                } else {
                    for (int c = 0; c < im.channels; c++) o[c] = (uint8_t)sample(x * spp + c);
                }
            }
            std::swap(prev, cur);
        }
    }
    return im;
}

}  // namespace vsd
