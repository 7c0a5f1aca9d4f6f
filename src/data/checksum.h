// checksum.h — the three checksums our file writers need, as bytewise table lookups:
//   crc32c   Castagnoli (reflected polynomial 0x82F63B78): TFRecord, the TensorBoard event files
//   crc32    IEEE 802.3 (reflected polynomial 0xEDB88320): PNG chunks (and zip, gzip)
//   adler32  zlib's stream checksum: PNG's zlib-wrapped image data
// Each takes the running value, so a long input can be fed in pieces (start from 0, or 1 for adler32).
#pragma once
#include <cstddef>
#include <cstdint>

namespace vsd {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);
uint32_t adler32(const void* data, size_t n, uint32_t adler = 1);

}  // namespace vsd
