// image.cpp — decoding by file type, Pillow's resampling and CLIP's preprocessing (image.h).
#include "image.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "../core/check.h"
#include "../core/progress.h"
#include "jpeg.h"
#include "npy.h"
#include "png.h"

namespace vsd {

Image image_decode(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& opt) {
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return jpeg_decode(data, size, name, opt);
    if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return png_decode(data, size, name);
    std::string first;
    for (size_t i = 0; i < std::min<size_t>(size, 4); i++) first += strfmt("%s%02X", i ? " " : "", data[i]);
    ENSURE_HINT(false, "JPEG files start with FF D8 FF, PNG files with 89 50 4E 47",
                "%s: byte 0: neither a JPEG nor a PNG (it starts with %s)", name.c_str(),
                size ? first.c_str() : "nothing: the file is empty");
    return {};
}

Image image_read(const std::string& path, const ImageOptions& opt) {
    const std::string bytes =
        read_file(path, "the image", "check the path (images are read as <images>/<file name> from id_mapping.json)");
    return image_decode((const uint8_t*)bytes.data(), bytes.size(), path, opt);
}

Image to_rgb(Image im) {
    if (im.channels == 3) return im;
    ENSURE(im.channels == 1, "to_rgb: %d channels; expected 1 or 3", im.channels);
    Image out;
    out.width = im.width;
    out.height = im.height;
    out.channels = 3;
    out.pixels.resize(im.pixels.size() * 3);
    for (size_t i = 0; i < im.pixels.size(); i++) std::memset(&out.pixels[3 * i], im.pixels[i], 3);
    return out;
}

// ---- Pillow's resampling -------------------------------------------------------------------------
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // fractional bits of the fixed-point weights

double bicubic(double x) {  // Keys' cubic convolution with a = -0.5
    const double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}
double triangle(double x) { x = std::fabs(x); return x < 1.0 ? 1.0 - x : 0.0; }

// For each output sample: the first input sample it reads, how many, and their fixed-point weights.
struct Taps {
    int ksize = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weight;  // out * ksize
};

Taps make_taps(int in_size, int out_size, double (*filter)(double), double support) {
    Taps t;
    const double scale = (double)in_size / out_size;
    const double fscale = std::max(scale, 1.0);  // shrinking widens the filter
    const double reach = support * fscale;
    t.ksize = (int)std::ceil(reach) * 2 + 1;
    t.first.resize(out_size);
    t.count.resize(out_size);
    t.weight.assign((size_t)out_size * t.ksize, 0);
    std::vector<double> w(t.ksize);
    for (int i = 0; i < out_size; i++) {
        const double centre = (i + 0.5) * scale;
        const int lo = std::max(0, (int)(centre - reach + 0.5));
        const int hi = std::min(in_size, (int)(centre + reach + 0.5));
        double sum = 0.0;
        const double inv = 1.0 / fscale;  // Pillow multiplies by the reciprocal
        for (int x = lo; x < hi; x++) sum += w[x - lo] = filter((x - centre + 0.5) * inv);
        for (int x = lo; x < hi; x++) {
            const double k = sum != 0.0 ? w[x - lo] / sum : w[x - lo];
            const double f = k * (1 << kPrecisionBits);
            t.weight[(size_t)i * t.ksize + (x - lo)] = (int32_t)(k < 0 ? f - 0.5 : f + 0.5);  // to nearest, halves away from 0
        }
        t.first[i] = lo;
        t.count[i] = hi - lo;
    }
    return t;
}

inline uint8_t round_fixed(int64_t acc) {
    const int64_t v = acc >> kPrecisionBits;
    return (uint8_t)std::min<int64_t>(255, std::max<int64_t>(0, v));
}

}  // namespace

Image resize_pillow(const Image& im, int out_w, int out_h, const std::string& filter) {
    ENSURE(out_w > 0 && out_h > 0 && im.width > 0 && im.height > 0, "resize_pillow: %dx%d to %dx%d", im.width,
           im.height, out_w, out_h);
    double (*f)(double) = nullptr;
    double support = 0;
    if (filter == "bicubic") { f = bicubic; support = 2.0; }
    else if (filter == "bilinear") { f = triangle; support = 1.0; }
    else ENSURE_HINT(false, "bicubic or bilinear", "resize_pillow: unknown filter '%s'", filter.c_str());
    const int C = im.channels;
    const int64_t half = (int64_t)1 << (kPrecisionBits - 1);
    Image cur = im;
    if (out_w != im.width) {  // horizontal pass
        const Taps t = make_taps(im.width, out_w, f, support);
        Image o;
        o.width = out_w; o.height = cur.height; o.channels = C;
        o.pixels.resize((size_t)out_w * cur.height * C);
        for (int y = 0; y < cur.height; y++)
            for (int x = 0; x < out_w; x++)
                for (int c = 0; c < C; c++) {
                    int64_t acc = half;
                    const int32_t* w = &t.weight[(size_t)x * t.ksize];
                    const uint8_t* src = cur.row(y) + (size_t)t.first[x] * C + c;
                    for (int k = 0; k < t.count[x]; k++) acc += (int64_t)src[(size_t)k * C] * w[k];
                    o.row(y)[(size_t)x * C + c] = round_fixed(acc);
                }
        cur = std::move(o);
    }
    if (out_h != im.height) {  // vertical pass
        const Taps t = make_taps(im.height, out_h, f, support);
        Image o;
        o.width = cur.width; o.height = out_h; o.channels = C;
        o.pixels.resize((size_t)cur.width * out_h * C);
        const size_t stride = (size_t)cur.width * C;
        for (int y = 0; y < out_h; y++) {
            const int32_t* w = &t.weight[(size_t)y * t.ksize];
            for (size_t i = 0; i < stride; i++) {
                int64_t acc = half;
                const uint8_t* src = cur.row(t.first[y]) + i;
                for (int k = 0; k < t.count[y]; k++) acc += (int64_t)src[k * stride] * w[k];
                o.row(y)[i] = round_fixed(acc);
            }
        }
        cur = std::move(o);
    }
    return cur;
}

Image clip_resize_crop(const Image& im, const ClipPreprocess& p) {
    // torchvision's Resize(size): the shorter side becomes `size`, the longer int(size * long / short)
    const int S = p.size;
    int w, h;
    if (im.width <= im.height) { w = S; h = (int)((double)S * im.height / im.width); }
    else { h = S; w = (int)((double)S * im.width / im.height); }
    const Image r = (w == im.width && h == im.height) ? im : resize_pillow(im, w, h, "bicubic");
    // CenterCrop(size): offsets round((extent - size) / 2) with Python's round (halves to even);
    // (extent - size) / 2 is a whole number or a half, so halves go to the even neighbour
    auto offset = [](int extent, int size) {
        const int d = extent - size;  // >= 0 here
        return d % 2 == 0 ? d / 2 : ((d / 2) % 2 == 0 ? d / 2 : d / 2 + 1);
    };
    const int top = offset(h, S), left = offset(w, S);
    Image out;
    out.width = S; out.height = S; out.channels = 3;
    out.pixels.resize((size_t)S * S * 3);
    const Image rgb = to_rgb(r);
    for (int y = 0; y < S; y++) std::memcpy(out.row(y), rgb.row(top + y) + (size_t)left * 3, (size_t)S * 3);
    return out;
}

void clip_preprocess(const Image& im, float* out, const ClipPreprocess& p) { clip_normalize(clip_resize_crop(im, p), out, p); }

void clip_normalize(const Image& c, float* out, const ClipPreprocess& p) {
    ENSURE(c.width == p.size && c.height == p.size && c.channels == 3, "clip_normalize: a %dx%dx%d crop; expected %dx%dx3",
           c.width, c.height, c.channels, p.size, p.size);
    const size_t plane = (size_t)p.size * p.size;
    for (int ch = 0; ch < 3; ch++)
        for (size_t i = 0; i < plane; i++) {
            const float x = (float)c.pixels[3 * i + ch] / 255.0f;  // ToTensor
            out[ch * plane + i] = (x - p.mean[ch]) / p.std[ch];    // Normalize
        }
}

std::vector<Image> image_read_many(const std::vector<std::string>& paths, int threads, bool progress,
                                   const ImageOptions& opt) {
    std::vector<Image> out(paths.size());
    if (threads <= 0) threads = omp_get_max_threads();
    std::atomic<int64_t> done{0};
    std::atomic<bool> failed{false};
    std::string error;
    Progress bar("decode images", (int64_t)paths.size());
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (int64_t i = 0; i < (int64_t)paths.size(); i++) {
        if (failed.load()) continue;
        try {
            out[i] = to_rgb(image_read(paths[i], opt));
        } catch (const std::exception& e) {
#pragma omp critical(image_read_many_error)
            if (!failed.exchange(true)) error = e.what();
        }
        const int64_t d = ++done;
        if (progress && omp_get_thread_num() == 0) bar.update(d);
    }
    if (failed) throw Error(error);
    if (progress) bar.finish();
    return out;
}

}  // namespace vsd
