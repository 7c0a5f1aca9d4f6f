// image.h — pictures in: decoding a JPEG or PNG file, and CLIP's preprocessing.
//
// An Image is 8-bit samples, row after row, `channels` interleaved per pixel (1 grey, 3 RGB).
// image_read() looks at the first bytes and calls jpeg_decode (jpeg.h) or png_decode (png.h);
// every decoder throws one vsd::Error line naming the file and the byte offset of what is wrong.
//
// CLIP's preprocessing is OpenCLIP's (and torchvision's, on a PIL image):
//   Resize(224, bicubic)   the shorter side to 224, the longer to int(224 * long / short), with
//                          Pillow's resampling (below), each direction on its own
//   CenterCrop(224)        the top-left corner at round((h - 224) / 2), Python's round (half to even)
//   ToTensor, Normalize    x / 255, then (x - mean[c]) / std[c], channel-major (3, 224, 224)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vsd {

struct Image {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;  // height * width * channels
    uint8_t* row(int y) { return pixels.data() + (size_t)y * width * channels; }
    const uint8_t* row(int y) const { return pixels.data() + (size_t)y * width * channels; }
};

struct ImageOptions {
    bool exif_orientation = true;  // turn a JPEG as its EXIF Orientation tag says (as PIL's exif_transpose)
};

// Decode a JPEG or PNG held in memory; `name` is used in error messages.
Image image_decode(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& opt = {});
// Read and decode a file.
Image image_read(const std::string& path, const ImageOptions& opt = {});
// Grey to RGB (each value three times, as PIL's convert("RGB")); RGB is returned as it is.
Image to_rgb(Image im);

// Pillow's resampling of an 8-bit image to (out_w, out_h), bit for bit (Pillow 9–11, Resample.c):
// per direction, output sample i is centred at (i + 0.5) * scale in the input (scale = in / out);
// when shrinking the filter widens by `scale` (an antialiasing low-pass); the weights are
// normalised to sum 1, rounded to fixed point with 22 fractional bits, and each pass rounds to
// 8 bits. Horizontal pass first, then vertical. `filter`: "bicubic" (Keys, a = -0.5),
// "bilinear" or "nearest".
Image resize_pillow(const Image& im, int out_w, int out_h, const std::string& filter = "bicubic");

struct ClipPreprocess {
    int size = 224;
    float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};  // OpenAI CLIP's, as OpenCLIP
    float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
};
// The resize and crop of OpenCLIP's preprocessing, before normalisation: an RGB size x size image.
Image clip_resize_crop(const Image& im, const ClipPreprocess& p = {});
// The whole preprocessing: (3, size, size) floats, written to `out`.
void clip_preprocess(const Image& im, float* out, const ClipPreprocess& p = {});
// Its last step alone, on a crop from clip_resize_crop: ToTensor and Normalize into `out` (3, size, size).
void clip_normalize(const Image& crop, float* out, const ClipPreprocess& p = {});

// Decode many files on `threads` threads (0: all the CPU's), with a progress line when `progress`.
// Each result is an RGB image; the first file that fails stops the work with its error.
std::vector<Image> image_read_many(const std::vector<std::string>& paths, int threads, bool progress,
                                   const ImageOptions& opt = {});

}  // namespace vsd
