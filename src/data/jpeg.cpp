// jpeg.cpp — the JPEG decoder (jpeg.h): markers, entropy decoding, inverse DCT, upsampling, colour.
#include "jpeg.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/check.h"

namespace vsd {

namespace {

const char* kHintDamaged =
    "the file is damaged or truncated: does an image viewer open it? Re-saving it (e.g. PIL: "
    "Image.open(f).convert('RGB').save(g, quality=95)) writes a clean baseline JPEG";

// ---- the zigzag order ------------------------------------------------------------------------
// A scan lists a block's 64 coefficients from low to high frequency along the anti-diagonals
// (row + col = s), alternately upwards (even s: row falling) and downwards (odd s).
// kZigzag.at[k] is the row-major index (row * 8 + col) of the k-th coefficient of the stream.
struct Zigzag {
    uint8_t at[64];
    Zigzag() {
        int k = 0;
        for (int s = 0; s < 15; s++) {
            const int lo = std::max(0, s - 7), hi = std::min(s, 7);
            for (int i = 0; i <= hi - lo; i++) {
                const int row = (s % 2 == 0) ? hi - i : lo + i;
                at[k++] = (uint8_t)(row * 8 + (s - row));
            }
        }
    }
};
const Zigzag kZigzag;

// ---- Huffman tables ----------------------------------------------------------------------------
// A DHT segment gives, for each code length 1..16, how many codes have it, then the symbols in
// code order. Codes are canonical: each length's codes are consecutive, starting at twice one
// past the previous length's last code. Decoding peeks 16 bits: a code of up to 9 bits is found in
// one table lookup (fast_len/fast_sym, indexed by the next 9 bits); a longer one by comparing the
// first `len` bits with the largest code of each length.
constexpr int kFastBits = 9;

struct Huffman {
    bool defined = false;
    uint8_t fast_len[1 << kFastBits];  // 0: the code is longer than kFastBits
    uint8_t fast_sym[1 << kFastBits];
    int32_t max_code[17];   // largest code of each length, -1 when none
    int32_t sym_offset[17];  // symbol index of a code of this length = code + sym_offset[len]
    uint8_t symbols[256];
};

// ---- reading entropy-coded bits ----------------------------------------------------------------
// Scan data is a bit stream, most significant bit first, in which a 0xFF byte is followed by a
// stuffed 0x00. Any other byte after 0xFF is a marker: the data ends there (or at the end of the
// file). Past the end the reader supplies zero bits and counts them: a valid stream never uses
// them, so the decoder checks `consumed_padding()` and reports where the data ran out.
struct BitReader {
    const uint8_t* d;
    size_t n, pos;          // pos: the next byte to take into acc
    uint64_t acc = 0;       // the next `nbits` bits, left-aligned
    int nbits = 0;
    int64_t padding = 0;    // zero bits appended after the data ended
    bool ended = false;
    size_t end_at = 0;      // where the data ended: a marker's 0xFF, or n

    BitReader(const uint8_t* data, size_t size, size_t start) : d(data), n(size), pos(start) {}

    void fill() {
        while (nbits <= 56) {
            uint8_t b = 0;
            if (!ended && pos < n && !(d[pos] == 0xFF && (pos + 1 >= n || d[pos + 1] != 0x00))) {
                b = d[pos];
                pos += (b == 0xFF) ? 2 : 1;  // 0xFF 0x00 stands for 0xFF
            } else {
                if (!ended) { ended = true; end_at = std::min(pos, n); }
                padding += 8;
            }
            acc |= (uint64_t)b << (56 - nbits);
            nbits += 8;
        }
    }
    uint32_t peek16() { if (nbits < 16) fill(); return (uint32_t)(acc >> 48); }
    void skip(int k) { acc <<= k; nbits -= k; }
    uint32_t bits(int k) {  // k in 0..16
        if (k == 0) return 0;
        if (nbits < k) fill();
        const uint32_t v = (uint32_t)(acc >> (64 - k));
        skip(k);
        return v;
    }
    int64_t consumed_padding() const { return padding > nbits ? padding - nbits : 0; }
};

// A magnitude category s and s raw bits give a signed value: the upper half of the range is
// positive (v), the lower half negative (v - 2^s + 1).
inline int extend(uint32_t v, int s) {
    return (s > 0 && v < (1u << (s - 1))) ? (int)v - (1 << s) + 1 : (int)v;
}

struct Component {
    int id = 0, h = 1, v = 1, tq = 0;  // sampling factors, quantisation table
    int dc_table = 0, ac_table = 0;    // of the current scan
    int width = 0, height = 0;         // samples: ceil(image size * factor / max factor)
    int bw = 0, bh = 0;                // blocks per row and column, padded to whole MCUs
    std::vector<int16_t> coef;         // bw * bh blocks of 64, row-major within each block
    uint16_t quant[64] = {0};          // latched at the component's first scan (row-major)
    bool quant_latched = false;
    int dc_pred = 0;
    int16_t* block(int bx, int by) { return coef.data() + ((size_t)by * bw + bx) * 64; }
};

class Decoder {
  public:
    Decoder(const uint8_t* data, size_t size, const std::string& name) : d_(data), n_(size), name_(name) {}
    Image decode(const ImageOptions& opt);

  private:
    const uint8_t* d_;
    size_t n_;
    const std::string& name_;

    uint16_t qt_[4][64];
    bool qt_defined_[4] = {false, false, false, false};
    Huffman dc_[4], ac_[4];
    std::vector<Component> comp_;
    bool frame_ = false, progressive_ = false;
    int width_ = 0, height_ = 0, hmax_ = 1, vmax_ = 1, mcux_ = 0, mcuy_ = 0;
    int restart_interval_ = 0;
    bool jfif_ = false, adobe_ = false;
    int adobe_transform_ = -1;
    int orientation_ = 1;
    int scans_ = 0;
    int eobrun_ = 0;

    [[noreturn]] void fail(size_t at, const std::string& what, const char* hint = kHintDamaged) const {
        throw_error(__FILE__, __LINE__, strfmt("%s: byte %zu: %s", name_.c_str(), at, what.c_str()), hint);
    }
    uint8_t u8(size_t at) const { return d_[at]; }
    uint16_t u16(size_t at) const { return (uint16_t)(d_[at] << 8 | d_[at + 1]); }
    size_t find_marker(size_t from) const;
    size_t segment_length(size_t at, const char* what) const;

    void read_dqt(size_t at, size_t end);
    void read_dht(size_t at, size_t end);
    void read_sof(size_t at, size_t end, uint8_t marker);
    size_t read_sos(size_t at, size_t end);  // returns where the scan's data ends

    int decode_symbol(BitReader& br, const Huffman& t, size_t scan_at) const;
    void block_sequential(BitReader& br, Component& c, int16_t* blk, size_t at);
    void block_dc_first(BitReader& br, Component& c, int16_t* blk, int al, size_t at);
    void block_ac_first(BitReader& br, Component& c, int16_t* blk, int ss, int se, int al, size_t at);
    void block_ac_refine(BitReader& br, Component& c, int16_t* blk, int ss, int se, int al, size_t at);

    Image to_pixels() const;
};

void build_huffman(Huffman& t, const uint8_t counts[16], const uint8_t* symbols, int nsym) {
    std::memset(t.fast_len, 0, sizeof t.fast_len);
    std::memcpy(t.symbols, symbols, nsym);
    int code = 0, k = 0;
    for (int len = 1; len <= 16; len++) {
        t.sym_offset[len] = k - code;
        for (int i = 0; i < counts[len - 1]; i++, code++, k++) {
            if (len <= kFastBits) {
                const int first = code << (kFastBits - len), count = 1 << (kFastBits - len);
                for (int j = 0; j < count; j++) {
                    t.fast_len[first + j] = (uint8_t)len;
                    t.fast_sym[first + j] = symbols[k];
                }
            }
        }
        t.max_code[len] = counts[len - 1] ? code - 1 : -1;
        code <<= 1;
    }
    t.defined = true;
}

// The first 0xFF xx at or after `from` with xx a marker (not a stuffed 0x00 nor a fill 0xFF);
// n_ when there is none.
size_t Decoder::find_marker(size_t from) const {
    for (size_t i = from; i + 1 < n_; i++)
        if (d_[i] == 0xFF && d_[i + 1] != 0x00 && d_[i + 1] != 0xFF) return i;
    return n_;
}

// A marker segment at `at` (just past the marker) starts with its own length (2 bytes, counting
// themselves). Returns the segment's end.
size_t Decoder::segment_length(size_t at, const char* what) const {
    if (at + 2 > n_) fail(n_, strfmt("the file ends inside the %s segment's length", what));
    const size_t len = u16(at);
    if (len < 2) fail(at, strfmt("the %s segment's length is %zu; expected at least 2", what, len));
    if (at + len > n_)
        fail(at, strfmt("the %s segment declares %zu bytes but only %zu are left in the file", what, len, n_ - at));
    return at + len;
}

void Decoder::read_dqt(size_t at, size_t end) {
    while (at < end) {
        const int pq = u8(at) >> 4, tq = u8(at) & 15;
        if (pq > 1 || tq > 3)
            fail(at, strfmt("DQT: precision %d, table %d; expected precision 0 or 1 and table 0..3", pq, tq));
        const size_t bytes = 1 + 64 * (pq + 1);
        if (at + bytes > end) fail(at, "DQT: the table runs past the end of its segment");
        for (int k = 0; k < 64; k++)
            qt_[tq][kZigzag.at[k]] = pq ? u16(at + 1 + 2 * k) : u8(at + 1 + k);
        qt_defined_[tq] = true;
        at += bytes;
    }
}

void Decoder::read_dht(size_t at, size_t end) {
    while (at < end) {
        if (at + 17 > end) fail(at, "DHT: the table's 16 code counts run past the end of its segment");
        const int tc = u8(at) >> 4, th = u8(at) & 15;
        if (tc > 1 || th > 3) fail(at, strfmt("DHT: class %d, table %d; expected class 0 (DC) or 1 (AC) and table 0..3", tc, th));
        uint8_t counts[16];
        int total = 0, used = 0;  // used: codes of length i + 1 taken, counting longer codes' prefixes
        for (int i = 0; i < 16; i++) {
            counts[i] = u8(at + 1 + i);
            total += counts[i];
            used += counts[i];
            if (used > (1 << (i + 1)))
                fail(at, strfmt("DHT: more codes of up to %d bits than %d bits can hold", i + 1, i + 1));
            used <<= 1;
        }
        if (total > 256) fail(at, strfmt("DHT: %d symbols; a table holds at most 256", total));
        if (at + 17 + total > end) fail(at, "DHT: the symbols run past the end of the segment");
        build_huffman(tc == 0 ? dc_[th] : ac_[th], counts, d_ + at + 17, total);
        at += 17 + total;
    }
}

void Decoder::read_sof(size_t at, size_t end, uint8_t marker) {
    if (frame_) fail(at - 2, "a second frame header (SOF); expected one per file");
    if (end - at < 6) fail(at, "SOF: the segment is too short for a frame header");
    const int precision = u8(at);
    height_ = u16(at + 1);
    width_ = u16(at + 3);
    const int nc = u8(at + 5);
    if (precision != 8)
        fail(at, strfmt("%d-bit samples; only 8-bit JPEGs are supported", precision),
             "convert it to an 8-bit JPEG or a PNG");
    if (height_ == 0) fail(at + 1, "a height of 0 (a DNL marker gives it later) is not supported");
    if (width_ == 0) fail(at + 3, "a width of 0");
    if (nc == 4) fail(at + 5, "4 components (CMYK or YCCK) are not supported", "convert it to RGB");
    if (nc != 1 && nc != 3) fail(at + 5, strfmt("%d components; expected 1 (grey) or 3 (colour)", nc));
    if (end - at < (size_t)(6 + 3 * nc)) fail(at, "SOF: the segment is too short for its components");
    // a decompression bomb guard, at Pillow's default error threshold
    if ((int64_t)width_ * height_ > 178956970)
        fail(at + 1, strfmt("%d x %d pixels is more than 178,956,970 (Pillow's limit)", width_, height_));
    progressive_ = marker == 0xC2;
    comp_.resize(nc);
    for (int i = 0; i < nc; i++) {
        Component& c = comp_[i];
        const size_t p = at + 6 + 3 * i;
        c.id = u8(p);
        c.h = u8(p + 1) >> 4;
        c.v = u8(p + 1) & 15;
        c.tq = u8(p + 2);
        if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)
            fail(p + 1, strfmt("component %d has sampling factors %dx%d; expected 1..4 each", c.id, c.h, c.v));
        if (c.tq > 3) fail(p + 2, strfmt("component %d uses quantisation table %d; expected 0..3", c.id, c.tq));
        for (int j = 0; j < i; j++)
            if (comp_[j].id == c.id) fail(p, strfmt("two components have the id %d", c.id));
        hmax_ = std::max(hmax_, c.h);
        vmax_ = std::max(vmax_, c.v);
    }
    mcux_ = (width_ + 8 * hmax_ - 1) / (8 * hmax_);
    mcuy_ = (height_ + 8 * vmax_ - 1) / (8 * vmax_);
    int64_t blocks = 0;
    for (Component& c : comp_) {
        if (hmax_ % c.h || vmax_ % c.v)
            fail(at + 6, strfmt("sampling factors %dx%d of component %d do not divide the largest (%dx%d)",
                                c.h, c.v, c.id, hmax_, vmax_));
        c.width = (int)(((int64_t)width_ * c.h + hmax_ - 1) / hmax_);
        c.height = (int)(((int64_t)height_ * c.v + vmax_ - 1) / vmax_);
        c.bw = mcux_ * c.h;
        c.bh = mcuy_ * c.v;
        blocks += (int64_t)((c.width + 7) / 8) * ((c.height + 7) / 8);
    }
    // Every block's DC coefficient costs at least one bit of scan data: a tiny file that declares
    // a huge picture is damaged (and must not make us allocate for the picture).
    if (blocks / 8 > (int64_t)n_)
        fail(at + 1, strfmt("%d x %d pixels need at least %lld bytes of scan data, but the file has %zu bytes",
                            width_, height_, (long long)(blocks / 8), n_));
    for (Component& c : comp_) c.coef.assign((size_t)c.bw * c.bh * 64, 0);
    frame_ = true;
}

int Decoder::decode_symbol(BitReader& br, const Huffman& t, size_t scan_at) const {
    const uint32_t peek = br.peek16();
    const uint32_t fast = peek >> (16 - kFastBits);
    if (t.fast_len[fast]) {
        br.skip(t.fast_len[fast]);
        return t.fast_sym[fast];
    }
    for (int len = kFastBits + 1; len <= 16; len++) {
        const int32_t code = (int32_t)(peek >> (16 - len));
        if (code <= t.max_code[len]) {
            br.skip(len);
            return t.symbols[code + t.sym_offset[len]];
        }
    }
    fail(br.ended ? br.end_at : br.pos, strfmt("a bit pattern that is no Huffman code of the scan at byte %zu", scan_at));
}

// Sequential (baseline) block: the DC difference, then (run of zeros, value) pairs until the end
// of block symbol (0x00) or coefficient 63.
void Decoder::block_sequential(BitReader& br, Component& c, int16_t* blk, size_t at) {
    const int s = decode_symbol(br, dc_[c.dc_table], at);
    if (s > 15) fail(br.pos, strfmt("a DC magnitude category of %d; expected 0..15", s));
    c.dc_pred = (int16_t)(c.dc_pred + extend(br.bits(s), s));
    blk[0] = (int16_t)c.dc_pred;
    for (int k = 1; k < 64;) {
        const int rs = decode_symbol(br, ac_[c.ac_table], at);
        const int r = rs >> 4, sz = rs & 15;
        if (sz == 0) {
            if (r != 15) break;  // end of block
            k += 16;              // sixteen zeros
            continue;
        }
        k += r;
        if (k > 63) fail(br.pos, "a run of zeros past the block's 64th coefficient");
        blk[kZigzag.at[k++]] = (int16_t)extend(br.bits(sz), sz);
    }
}

// Progressive, first DC scan: the DC coefficient's high bits (point transform al).
void Decoder::block_dc_first(BitReader& br, Component& c, int16_t* blk, int al, size_t at) {
    const int s = decode_symbol(br, dc_[c.dc_table], at);
    if (s > 15) fail(br.pos, strfmt("a DC magnitude category of %d; expected 0..15", s));
    c.dc_pred = (int16_t)(c.dc_pred + extend(br.bits(s), s));
    blk[0] = (int16_t)(c.dc_pred * (1 << al));
}

// Progressive, first AC scan of the band ss..se: like a sequential block's AC part, except that an
// end-of-band run (EOBRUN) can cover the band of many following blocks.
void Decoder::block_ac_first(BitReader& br, Component& c, int16_t* blk, int ss, int se, int al, size_t at) {
    if (eobrun_ > 0) { eobrun_--; return; }
    for (int k = ss; k <= se; k++) {
        const int rs = decode_symbol(br, ac_[c.ac_table], at);
        const int r = rs >> 4, sz = rs & 15;
        if (sz == 0) {
            if (r < 15) {  // this block and 2^r + (r more bits) - 1 more end here
                eobrun_ = (1 << r) - 1 + (int)br.bits(r);
                return;
            }
            k += 15;  // sixteen zeros (the loop adds one)
            continue;
        }
        k += r;
        if (k > se) fail(br.pos, "a run of zeros past the end of the scan's band");
        blk[kZigzag.at[k]] = (int16_t)(extend(br.bits(sz), sz) * (1 << al));
    }
}

// Progressive, refining AC scan: one more bit (1 << al) of the band's coefficients. A coefficient
// already nonzero gets a correction bit (add 1 << al away from zero when set); new coefficients
// (+-1 << al) arrive as (run, 1) symbols, where the run counts only coefficients still zero.
void Decoder::block_ac_refine(BitReader& br, Component& c, int16_t* blk, int ss, int se, int al, size_t at) {
    const int p1 = 1 << al, m1 = -p1;
    auto refine = [&](int16_t& coef) {
        if (br.bits(1) && (coef & p1) == 0) coef = (int16_t)(coef + (coef >= 0 ? p1 : m1));
    };
    int k = ss;
    if (eobrun_ == 0) {
        for (; k <= se; k++) {
            const int rs = decode_symbol(br, ac_[c.ac_table], at);
            int r = rs >> 4;
            const int sz = rs & 15;
            int value = 0;
            if (sz) {
                if (sz != 1) fail(br.pos, strfmt("a refinement value of magnitude %d; expected 1", sz));
                value = br.bits(1) ? p1 : m1;
            } else if (r != 15) {
                eobrun_ = (1 << r) + (int)br.bits(r);
                break;  // the rest of this band only refines
            }
            // pass r zero coefficients (refining the nonzero ones on the way), stop at the next zero
            for (; k <= se; k++) {
                int16_t& coef = blk[kZigzag.at[k]];
                if (coef != 0) refine(coef);
                else if (r-- == 0) break;
            }
            if (value && k <= se) blk[kZigzag.at[k]] = (int16_t)value;
        }
    }
    if (eobrun_ > 0) {
        for (; k <= se; k++) {
            int16_t& coef = blk[kZigzag.at[k]];
            if (coef != 0) refine(coef);
        }
        eobrun_--;
    }
}

size_t Decoder::read_sos(size_t at, size_t end) {
    const size_t sos = at - 2;
    if (!frame_) fail(sos, "a scan (SOS) before the frame header (SOF)");
    const int ns = u8(at);
    if (ns < 1 || ns > (int)comp_.size() || end - at < (size_t)(4 + 2 * ns))
        fail(at, strfmt("SOS: %d components in a scan of a %zu-component frame", ns, comp_.size()));
    std::vector<Component*> sc;
    for (int i = 0; i < ns; i++) {
        const size_t p = at + 1 + 2 * i;
        Component* c = nullptr;
        for (Component& x : comp_)
            if (x.id == u8(p)) c = &x;
        if (!c) fail(p, strfmt("SOS: component id %d is not in the frame", u8(p)));
        for (Component* y : sc)
            if (y == c) fail(p, strfmt("SOS: component id %d listed twice", c->id));
        c->dc_table = u8(p + 1) >> 4;
        c->ac_table = u8(p + 1) & 15;
        if (c->dc_table > 3 || c->ac_table > 3) fail(p + 1, "SOS: a Huffman table number above 3");
        sc.push_back(c);
    }
    const size_t q = at + 1 + 2 * ns;
    const int ss = u8(q), se = u8(q + 1), ah = u8(q + 2) >> 4, al = u8(q + 2) & 15;
    if (progressive_) {
        const bool ok = ss == 0 ? se == 0 : (ss <= se && se <= 63 && ns == 1);
        if (!ok || al > 13 || ah > 13)
            fail(q, strfmt("progressive scan with Ss=%d Se=%d Ah=%d Al=%d in %d components: not a valid band", ss, se, ah, al, ns));
    } else if (ss != 0 || se != 63 || ah != 0 || al != 0) {
        fail(q, strfmt("sequential scan with Ss=%d Se=%d Ah=%d Al=%d; expected 0, 63, 0, 0", ss, se, ah, al));
    }
    const bool dc = ss == 0, first = ah == 0;
    for (Component* c : sc) {
        if (dc && first && !dc_[c->dc_table].defined)
            fail(at, strfmt("the scan uses DC Huffman table %d, which no DHT defined", c->dc_table));
        if ((!dc || !progressive_) && !ac_[c->ac_table].defined)
            fail(at, strfmt("the scan uses AC Huffman table %d, which no DHT defined", c->ac_table));
        if (!c->quant_latched) {
            if (!qt_defined_[c->tq])
                fail(at, strfmt("component %d uses quantisation table %d, which no DQT defined", c->id, c->tq));
            std::memcpy(c->quant, qt_[c->tq], sizeof c->quant);
            c->quant_latched = true;
        }
        c->dc_pred = 0;
    }
    scans_++;
    eobrun_ = 0;

    // One component: its blocks in raster order over its own size (not padded to MCUs).
    // Several: MCU after MCU, each holding h x v blocks of every component.
    const bool single = ns == 1;
    const int sbw = single ? (sc[0]->width + 7) / 8 : mcux_;
    const int64_t units = single ? (int64_t)sbw * ((sc[0]->height + 7) / 8) : (int64_t)mcux_ * mcuy_;
    BitReader br(d_, n_, end);
    int next_rst = 0;
    for (int64_t m = 0; m < units; m++) {
        if (restart_interval_ && m > 0 && m % restart_interval_ == 0) {
            if (br.consumed_padding() > 0)
                fail(br.end_at, strfmt("the scan's data ends before restart interval %d is complete", next_rst));
            const size_t mk = find_marker(br.ended ? br.end_at : br.pos);
            if (mk >= n_) fail(n_, strfmt("the file ends where restart marker RST%d should be", next_rst));
            if (u8(mk + 1) != 0xD0 + next_rst)
                fail(mk, strfmt("found marker FF %02X where restart marker RST%d (FF %02X) should be",
                                u8(mk + 1), next_rst, 0xD0 + next_rst));
            next_rst = (next_rst + 1) & 7;
            br = BitReader(d_, n_, mk + 2);
            for (Component* c : sc) c->dc_pred = 0;
            eobrun_ = 0;
        }
        auto one = [&](Component& c, int bx, int by) {
            int16_t* blk = c.block(bx, by);
            if (!progressive_) block_sequential(br, c, blk, sos);
            else if (dc && first) block_dc_first(br, c, blk, al, sos);
            else if (dc) { if (br.bits(1)) blk[0] = (int16_t)(blk[0] | (1 << al)); }
            else if (first) block_ac_first(br, c, blk, ss, se, al, sos);
            else block_ac_refine(br, c, blk, ss, se, al, sos);
        };
        if (single) {
            one(*sc[0], (int)(m % sbw), (int)(m / sbw));
        } else {
            const int mx = (int)(m % mcux_), my = (int)(m / mcux_);
            for (Component* c : sc)
                for (int v = 0; v < c->v; v++)
                    for (int h = 0; h < c->h; h++) one(*c, mx * c->h + h, my * c->v + v);
        }
        if (br.consumed_padding() > 0)
            fail(br.end_at, strfmt("the data of the scan at byte %zu ends after %lld of its %lld %s", sos,
                                   (long long)m, (long long)units, single ? "blocks" : "MCUs"));
    }
    return find_marker(br.ended ? br.end_at : br.pos);
}

// ---- the inverse DCT ---------------------------------------------------------------------------
// The 1-D 8-point inverse DCT factored as Loeffler, Ligtenberg and Moschytz (ICASSP 1989): an even
// part (inputs 0, 2, 4, 6) with one rotation, an odd part (1, 3, 5, 7) with four multiplications by
// sums of cosines, and butterflies. Constants are the cosine expressions times 2^13, rounded, as
// libjpeg's default method ("islow") uses; with the same rounding points below the output samples
// are the same integers as libjpeg's. The results come back scaled by 2^13.
constexpr int64_t fix13(double x) { return (int64_t)(x * 8192.0 + 0.5); }

inline void idct8(const int64_t x[8], int64_t y[8]) {
    // even part
    const int64_t e0 = (x[0] + x[4]) * 8192, e1 = (x[0] - x[4]) * 8192;
    const int64_t rot = (x[2] + x[6]) * fix13(0.541196100);
    const int64_t e2 = rot - x[6] * fix13(1.847759065);
    const int64_t e3 = rot + x[2] * fix13(0.765366865);
    const int64_t t10 = e0 + e3, t13 = e0 - e3, t11 = e1 + e2, t12 = e1 - e2;
    // odd part
    int64_t o0 = x[7], o1 = x[5], o2 = x[3], o3 = x[1];
    int64_t z1 = o0 + o3, z2 = o1 + o2, z3 = o0 + o2, z4 = o1 + o3;
    const int64_t z5 = (z3 + z4) * fix13(1.175875602);
    o0 *= fix13(0.298631336);
    o1 *= fix13(2.053119869);
    o2 *= fix13(3.072711026);
    o3 *= fix13(1.501321110);
    z1 *= -fix13(0.899976223);
    z2 *= -fix13(2.562915447);
    z3 = z3 * -fix13(1.961570560) + z5;
    z4 = z4 * -fix13(0.390180644) + z5;
    o0 += z1 + z3;
    o1 += z2 + z4;
    o2 += z2 + z3;
    o3 += z1 + z4;
    y[0] = t10 + o3; y[7] = t10 - o3;
    y[1] = t11 + o2; y[6] = t11 - o2;
    y[2] = t12 + o1; y[5] = t12 - o1;
    y[3] = t13 + o0; y[4] = t13 - o0;
}

// round(v / 2^bits), halves upwards (an arithmetic shift floors)
inline int64_t descale(int64_t v, int bits) { return (v + ((int64_t)1 << (bits - 1))) >> bits; }

// Dequantise and invert one block into 8 rows of `out` (stride `stride`). Columns first, kept with
// 2 extra fractional bits; then rows, dropping those, the 2^13 and the DCT's factor 8, plus 128.
void idct_block(const int16_t* coef, const uint16_t* quant, uint8_t* out, int stride) {
    int64_t ws[64], x[8], y[8];
    for (int col = 0; col < 8; col++) {
        bool ac_zero = true;
        for (int r = 1; r < 8; r++) ac_zero &= coef[r * 8 + col] == 0;
        if (ac_zero) {  // the same numbers the full transform gives, sooner
            for (int r = 0; r < 8; r++) ws[r * 8 + col] = (int64_t)coef[col] * quant[col] * 4;
            continue;
        }
        for (int r = 0; r < 8; r++) x[r] = (int64_t)coef[r * 8 + col] * quant[r * 8 + col];
        idct8(x, y);
        for (int r = 0; r < 8; r++) ws[r * 8 + col] = descale(y[r], 13 - 2);
    }
    for (int r = 0; r < 8; r++) {
        idct8(ws + r * 8, y);
        for (int c = 0; c < 8; c++) {
            const int64_t v = descale(y[c], 13 + 2 + 3) + 128;
            out[(size_t)r * stride + c] = (uint8_t)std::min<int64_t>(255, std::max<int64_t>(0, v));
        }
    }
}

// ---- upsampling ----------------------------------------------------------------------------------
// A plane of `w` x `h` samples (row stride `stride`) to width x height. libjpeg's "fancy" filter
// places each chroma sample between the luma samples it covers: output = 3/4 of the nearer input +
// 1/4 of the farther one, per direction (rounding biases alternate so no direction drifts); at the
// borders the outermost sample repeats. It applies to 2x1, 2x2 and 1x2 ratios when the plane is
// more than 2 samples wide; any other ratio repeats each sample.
void upsample(const uint8_t* in, int w, int h, int stride, int fx, int fy, uint8_t* out, int width, int height) {
    auto at = [&](int x, int y) -> int {
        return in[(size_t)std::min(std::max(y, 0), h - 1) * stride + std::min(std::max(x, 0), w - 1)];
    };
    const bool fancy = w > 2;
    for (int oy = 0; oy < height; oy++) {
        uint8_t* o = out + (size_t)oy * width;
        const int iy = oy / fy;
        const int far_y = (oy % 2 == 0) ? iy - 1 : iy + 1;  // the other input row (2x vertical)
        if (fancy && fx == 2 && fy == 1) {
            for (int ox = 0; ox < width; ox++) {
                const int ix = ox / 2;
                o[ox] = (ox % 2 == 0) ? (uint8_t)((3 * at(ix, iy) + at(ix - 1, iy) + 1) >> 2)
                                      : (uint8_t)((3 * at(ix, iy) + at(ix + 1, iy) + 2) >> 2);
            }
        } else if (fancy && fx == 2 && fy == 2) {
            auto col = [&](int x) { return 3 * at(x, iy) + at(x, far_y); };  // vertical pass, x 4
            for (int ox = 0; ox < width; ox++) {
                const int ix = ox / 2;
                o[ox] = (ox % 2 == 0) ? (uint8_t)((3 * col(ix) + col(ix - 1) + 8) >> 4)
                                      : (uint8_t)((3 * col(ix) + col(ix + 1) + 7) >> 4);
            }
        } else if (fancy && fx == 1 && fy == 2) {
            const int bias = (oy % 2 == 0) ? 1 : 2;
            for (int ox = 0; ox < width; ox++) o[ox] = (uint8_t)((3 * at(ox, iy) + at(ox, far_y) + bias) >> 2);
        } else {
            for (int ox = 0; ox < width; ox++) o[ox] = (uint8_t)at(ox / fx, iy);
        }
    }
}

inline uint8_t clamp255(int v) { return (uint8_t)std::min(255, std::max(0, v)); }

Image Decoder::to_pixels() const {
    // every block to samples
    std::vector<std::vector<uint8_t>> planes(comp_.size());
    for (size_t i = 0; i < comp_.size(); i++) {
        const Component& c = comp_[i];
        const int stride = c.bw * 8;
        planes[i].resize((size_t)stride * c.bh * 8);
        for (int by = 0; by < c.bh; by++)
            for (int bx = 0; bx < c.bw; bx++)
                idct_block(c.coef.data() + ((size_t)by * c.bw + bx) * 64, c.quant,
                           planes[i].data() + (size_t)by * 8 * stride + bx * 8, stride);
    }
    Image im;
    im.width = width_;
    im.height = height_;
    im.channels = comp_.size() == 1 ? 1 : 3;
    im.pixels.resize((size_t)width_ * height_ * im.channels);
    if (im.channels == 1) {
        for (int y = 0; y < height_; y++) std::memcpy(im.row(y), planes[0].data() + (size_t)y * comp_[0].bw * 8, width_);
        return im;
    }
    // full-size planes
    std::vector<uint8_t> full[3];
    for (int i = 0; i < 3; i++) {
        const Component& c = comp_[i];
        full[i].resize((size_t)width_ * height_);
        upsample(planes[i].data(), c.width, c.height, c.bw * 8, hmax_ / c.h, vmax_ / c.v, full[i].data(), width_, height_);
    }
    // colour: JFIF's YCbCr -> RGB in 16-bit fixed point, each product rounded as libjpeg rounds it
    bool rgb = false;
    if (jfif_) rgb = false;
    else if (adobe_) rgb = adobe_transform_ == 0;
    else rgb = comp_[0].id == 'R' && comp_[1].id == 'G' && comp_[2].id == 'B';
    const int64_t half = 1 << 15;
    auto fix16 = [](double x) { return (int64_t)(x * 65536.0 + 0.5); };
    const int64_t cr_r = fix16(1.40200), cb_g = fix16(0.34414), cr_g = fix16(0.71414), cb_b = fix16(1.77200);
    for (size_t p = 0; p < (size_t)width_ * height_; p++) {
        uint8_t* o = im.pixels.data() + 3 * p;
        const int y = full[0][p], cb = full[1][p] - 128, cr = full[2][p] - 128;
        if (rgb) { o[0] = full[0][p]; o[1] = full[1][p]; o[2] = full[2][p]; continue; }
        o[0] = clamp255(y + (int)((cr_r * cr + half) >> 16));
        o[1] = clamp255(y + (int)((-cb_g * cb - cr_g * cr + half) >> 16));
        o[2] = clamp255(y + (int)((cb_b * cb + half) >> 16));
    }
    return im;
}

// EXIF: "Exif\0\0", then a TIFF header (byte order "II" or "MM", 42, the offset of IFD0) and IFD0:
// a count, then 12-byte entries (tag, type, count, value). Orientation is tag 0x0112, a SHORT.
int exif_orientation(const uint8_t* p, size_t len) {
    if (len < 14 || std::memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const uint8_t* t = p + 6;
    const size_t tl = len - 6;
    const bool le = t[0] == 'I' && t[1] == 'I';
    if (!le && !(t[0] == 'M' && t[1] == 'M')) return 1;
    auto r16 = [&](size_t o) -> uint32_t { return le ? t[o] | t[o + 1] << 8 : t[o] << 8 | t[o + 1]; };
    auto r32 = [&](size_t o) -> uint32_t { return le ? r16(o) | r16(o + 2) << 16 : r16(o) << 16 | r16(o + 2); };
    const size_t ifd = r32(4);
    if (ifd + 2 > tl || ifd < 8) return 1;
    const size_t count = r16(ifd);
    for (size_t i = 0; i < count && ifd + 2 + 12 * (i + 1) <= tl; i++) {
        const size_t e = ifd + 2 + 12 * i;
        if (r16(e) == 0x0112 && r16(e + 2) == 3) {
            const uint32_t v = r16(e + 8);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

Image Decoder::decode(const ImageOptions& opt) {
    if (n_ < 2 || d_[0] != 0xFF || d_[1] != 0xD8)
        fail(0, strfmt("not a JPEG: it starts with %02X %02X, a JPEG with FF D8", n_ > 0 ? d_[0] : 0, n_ > 1 ? d_[1] : 0),
             "is the file a JPEG? `file` tells its type");
    size_t pos = 2;
    for (;;) {
        const size_t mk = find_marker(pos);
        if (mk >= n_)
            fail(n_, frame_ && scans_ ? "the file ends before its end-of-image marker (FF D9): it is truncated"
                                      : "the file ends before any image data");
        const uint8_t m = u8(mk + 1);
        pos = mk + 2;
        if (m == 0xD9) break;                                    // EOI
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // markers without a segment
        const std::string what = m == 0xC4 ? "DHT" : m == 0xDB ? "DQT" : m == 0xDD ? "DRI" : m == 0xDA ? "SOS"
                               : m == 0xFE ? "COM" : (m >= 0xE0 && m <= 0xEF) ? strfmt("APP%d", m - 0xE0)
                               : (m >= 0xC0 && m <= 0xCF) ? strfmt("SOF%d", m - 0xC0) : strfmt("FF %02X", m);
        const size_t end = segment_length(pos, what.c_str());
        const size_t body = pos + 2;
        switch (m) {
            case 0xC0: case 0xC1: case 0xC2: read_sof(body, end, m); break;
            case 0xC4: read_dht(body, end); break;
            case 0xDB: read_dqt(body, end); break;
            case 0xDD:
                if (end - body < 2) fail(body, "DRI: the segment is too short");
                restart_interval_ = u16(body);
                break;
            case 0xDA: pos = read_sos(body, end); continue;
            case 0xDC: fail(mk, "a DNL marker (the height given after the data) is not supported");
            case 0xE0:
                if (end - body >= 5 && std::memcmp(d_ + body, "JFIF\0", 5) == 0) jfif_ = true;
                break;
            case 0xE1: if (orientation_ == 1) orientation_ = exif_orientation(d_ + body, end - body); break;
            case 0xEE:
                if (end - body >= 12 && std::memcmp(d_ + body, "Adobe", 5) == 0) {
                    adobe_ = true;
                    adobe_transform_ = u8(body + 11);
                }
                break;
            default:
                if (m >= 0xC0 && m <= 0xCF && m != 0xC8 && m != 0xCC)
                    fail(mk, strfmt("frame type SOF%d (lossless, hierarchical or arithmetic-coded) is not supported; "
                                    "baseline and progressive Huffman JPEGs are", m - 0xC0),
                         "re-save it as an ordinary JPEG");
                break;  // other APPn, COM and unknown segments: skipped
        }
        pos = end;
    }
    if (!frame_) fail(n_, "the file has no frame header (SOF)");
    if (!scans_) fail(n_, "the file has no scan (SOS): there is no image data");
    Image im = to_pixels();
    return opt.exif_orientation ? apply_orientation(im, orientation_) : im;
}

}  // namespace

Image jpeg_decode(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& opt) {
    return Decoder(data, size, name).decode(opt);
}

int jpeg_orientation(const uint8_t* data, size_t size) {
    size_t pos = 2;
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
    while (pos + 4 <= size && data[pos] == 0xFF) {
        const uint8_t m = data[pos + 1];
        if (m == 0xDA || m == 0xD9) break;
        const size_t len = (size_t)data[pos + 2] << 8 | data[pos + 3];
        if (len < 2 || pos + 2 + len > size) break;
        if (m == 0xE1) {
            const int o = exif_orientation(data + pos + 4, len - 2);
            if (o != 1) return o;
        }
        pos += 2 + len;
    }
    return 1;
}

// Output pixel (x, y) of the turned image reads input pixel (ix, iy). Orientations 5..8 swap
// width and height. 2: mirror left-right, 3: turn 180, 4: mirror top-bottom, 5: transpose,
// 6: turn 90 clockwise, 7: transverse, 8: turn 90 anticlockwise.
Image apply_orientation(const Image& im, int orientation) {
    if (orientation < 2 || orientation > 8) return im;
    const int W = im.width, H = im.height, C = im.channels;
    const bool swap = orientation >= 5;
    Image out;
    out.width = swap ? H : W;
    out.height = swap ? W : H;
    out.channels = C;
    out.pixels.resize(im.pixels.size());
    for (int y = 0; y < out.height; y++)
        for (int x = 0; x < out.width; x++) {
            int ix = x, iy = y;
            switch (orientation) {
                case 2: ix = W - 1 - x; break;
                case 3: ix = W - 1 - x; iy = H - 1 - y; break;
                case 4: iy = H - 1 - y; break;
                case 5: ix = y; iy = x; break;
                case 6: ix = y; iy = H - 1 - x; break;
                case 7: ix = W - 1 - y; iy = H - 1 - x; break;
                case 8: ix = W - 1 - y; iy = x; break;
            }
            std::memcpy(out.row(y) + (size_t)x * C, im.row(iy) + (size_t)ix * C, C);
        }
    return out;
}

}  // namespace vsd
