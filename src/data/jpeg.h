// jpeg.h — a JPEG decoder (ITU-T T.81, JFIF), our own, written to agree with libjpeg(-turbo).
//
// Reads: Huffman-coded baseline, extended sequential (SOF0, SOF1) and progressive (SOF2), 8-bit
// samples; grey (1 component) and YCbCr or Adobe-RGB colour (3 components), any sampling factors
// 1..4 whose ratios are whole (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, ...); restart markers; the EXIF
// Orientation tag. Refuses, with one error line: lossless, hierarchical and arithmetic-coded files,
// 12-bit samples, CMYK, a DNL marker.
//
// The steps, each in its own function in jpeg.cpp:
//   1. markers: tables (DQT, DHT), frame (SOF), restart interval (DRI), EXIF (APP1), scans (SOS)
//   2. entropy decoding of each scan into quantised DCT coefficients, 64 per 8x8 block, kept for
//      the whole image (a progressive file refines them scan after scan)
//   3. dequantisation and the inverse DCT of every block: the integer Loeffler–Ligtenberg–
//      Moschytz factorisation with 13-bit constants, as libjpeg's default ("islow") method, so
//      that the samples are the same integers
//   4. chroma upsampling: libjpeg's default "fancy" triangle filter (weights 3/4, 1/4) for
//      2x1, 2x2 and 1x2 ratios, plain replication for the others
//   5. YCbCr -> RGB with JFIF's coefficients in 16-bit fixed point, as libjpeg
//   6. the EXIF orientation (optional)
// Pixels agree with Debian's python3-pil (libjpeg-turbo) exactly on the test images
// (tests/test_image.cpp; tools/make_image_fixtures.py made them).
#pragma once
#include "image.h"

namespace vsd {

// `data` holds the whole file. Throws vsd::Error "<name>: byte <offset>: <what> ..." on bad input.
Image jpeg_decode(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& opt = {});

// The EXIF Orientation (1..8) of a JPEG's APP1 segment, 1 when there is none or it is unreadable.
int jpeg_orientation(const uint8_t* data, size_t size);

// Apply an EXIF orientation 1..8 (what PIL's ImageOps.exif_transpose does).
Image apply_orientation(const Image& im, int orientation);

}  // namespace vsd
