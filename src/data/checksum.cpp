// checksum.cpp — table-driven CRCs and Adler-32 (checksum.h).
//
// A reflected CRC processes the lowest bit first: for each byte, crc = table[(crc ^ byte) & 0xFF]
// ^ (crc >> 8), where table[i] is i shifted through 8 rounds of "shift right, xor the polynomial
// if the bit that fell out was 1". The value is inverted before and after (the ~ below).
#include "checksum.h"

#include <array>

namespace vsd {

static std::array<uint32_t, 256> crc_table(uint32_t poly) {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[i] = c;
    }
    return t;
}

static uint32_t crc_update(const std::array<uint32_t, 256>& t, const void* data, size_t n, uint32_t crc) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
    static const std::array<uint32_t, 256> t = crc_table(0x82F63B78u);
    return crc_update(t, data, n, crc);
}

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
    static const std::array<uint32_t, 256> t = crc_table(0xEDB88320u);
    return crc_update(t, data, n, crc);
}

uint32_t adler32(const void* data, size_t n, uint32_t adler) {
    // two running sums mod 65521 (the largest prime below 2^16): a = 1 + sum of bytes, b = sum of a's
    const uint8_t* p = static_cast<const uint8_t*>(data);
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

}  // namespace vsd
