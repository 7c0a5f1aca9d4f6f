// png.h — a small PNG writer (8-bit RGB), for the demo's synthetic pictures and the reports.
//
// and a PNG reader (every colour type and bit depth, Adam7 interlacing, our own inflate), for
// pictures a user brings.
//
// A PNG file is the 8-byte signature and chunks, each  length | type | data | crc32(type + data):
//   IHDR  width, height, bit depth 8, colour type 2 (RGB), no interlace
//   IDAT  the zlib stream of the filtered rows: each row is one filter byte (0 none, 1 Sub: minus
//         the pixel to the left, 2 Up: minus the pixel above) and its bytes
//   IEND
// The zlib stream is a deflate stream between a 2-byte header and the Adler-32 of the data. Our
// deflate is the simplest that compresses flat pictures well: runs of one repeated byte become
// a literal and a back-reference at distance 1, coded with deflate's fixed Huffman tables (RFC
// 1951 §3.2.6); everything else is a literal.
#pragma once
#include <cstdint>
#include <string>

#include "image.h"

namespace vsd {

// rgb: height rows of width pixels, 3 bytes each (R, G, B). Returns the PNG file's bytes.
std::string png_encode(const uint8_t* rgb, int width, int height);

// the raw deflate stream of bytes (exposed for tests)
std::string deflate_runs(const std::string& bytes);

// Decode a PNG: grey, grey+alpha, RGB, RGBA (bit depth 8 or 16) and palette or grey at 1, 2, 4, 8
// bits, interlaced or not. The result is 8-bit grey or RGB as PIL's convert("L"/"RGB") gives it:
// alpha dropped, 16-bit samples cut to their high byte, low bit depths scaled to 0..255, palette
// entries looked up. Chunk CRCs and the zlib checksum are verified. Throws "<name>: byte N: ...".
Image png_decode(const uint8_t* data, size_t size, const std::string& name);

// Inflate (RFC 1951) the raw deflate stream `data`; at most `limit` bytes out. `name` and
// `offset` (of data[0] in the file) are for error messages. Exposed for tests.
std::string inflate(const uint8_t* data, size_t size, size_t limit, const std::string& name, size_t offset = 0);

// The contents of a gzip file (RFC 1952: header, deflate stream, CRC-32 and size, both checked),
// at most `limit` bytes. `name` is for error messages.
std::string gunzip(const std::string& bytes, const std::string& name, size_t limit = (size_t)1 << 28);

}  // namespace vsd
