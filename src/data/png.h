// png.h — a small PNG writer (8-bit RGB), for the demo's synthetic pictures and the reports.
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

namespace vsd {

// rgb: height rows of width pixels, 3 bytes each (R, G, B). Returns the PNG file's bytes.
std::string png_encode(const uint8_t* rgb, int width, int height);

// the raw deflate stream of bytes (exposed for tests)
std::string deflate_runs(const std::string& bytes);

}  // namespace vsd
