// harness.cpp — libFuzzer targets, one per parser; `make fuzz` builds one binary per target with
// -DFUZZ_TARGET_<NAME> under AddressSanitizer and UndefinedBehaviorSanitizer.
//
// The contract every parser keeps: any byte string either parses or throws vsd::Error (one clear
// line). Anything else — a crash, a sanitizer report, another exception (std::out_of_range from a
// stoi, std::bad_alloc from a size nobody checked), a hang — is a bug that libFuzzer reports and
// saves as crash-<hash>; each one found becomes a regression test in tests/test_hardening.cpp or
// tests/test_torch_load.cpp.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "../../src/core/check.h"
#include "../../src/data/dataset.h"
#include "../../src/data/image.h"
#include "../../src/data/json.h"
#include "../../src/data/npy.h"
#include "../../src/data/safetensors.h"
#include "../../src/data/tokenizer.h"
#include "../../src/data/torch_load.h"
#include "../../src/nn/bert.h"

using namespace vsd;

namespace {

// Most parsers read files (memory-mapped or whole): the input goes to a per-process file first.
std::string as_file(const std::string& bytes, const char* ext) {
    static const std::string path = "/tmp/vsd_fuzz_" + std::to_string(getpid()) + ext;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
}

void run(const std::string& bytes) {
#if defined(FUZZ_TARGET_NPY)
    const std::string f = as_file(bytes, ".npy");
    if (const size_t at = npy_pickle_offset(f)) {  // an object array: the reference's saved similarities
        int64_t n_img, n_cap;
        load_pickled_sims(f, at, &n_img, &n_cap);
        return;
    }
    NpyArray a = npy_open(f);
    if (a.numel() > 0 && a.numel() < (1 << 20)) a.to_tensor();  // and read every value
#elif defined(FUZZ_TARGET_JSON)
    Json j = Json::parse(bytes, "fuzz");
    if (j.is_object())
        for (const auto& kv : j.members()) (void)kv.second.type_name();
#elif defined(FUZZ_TARGET_SAFETENSORS)
    safetensors_load(as_file(bytes, ".safetensors"));
#elif defined(FUZZ_TARGET_TORCH)
    torch_load(as_file(bytes, ".pth"));
#elif defined(FUZZ_TARGET_CAPTIONS)
    for (const std::string& c : read_captions(as_file(bytes, ".txt"))) (void)word_tokenize(to_lower_utf8(c));
#elif defined(FUZZ_TARGET_VOCAB)
    Vocab v = Vocab::load_json(as_file(bytes, ".json"));
    (void)v.encode("a man riding a horse on the beach .");
#elif defined(FUZZ_TARGET_BERT_CONFIG)
    BertConfig::from_json_file(as_file(bytes, ".json"));
#elif defined(FUZZ_TARGET_IMAGE)
    // JPEG and PNG decoding, then CLIP's resize and crop of what decoded
    Image im = image_decode((const uint8_t*)bytes.data(), bytes.size(), "fuzz");
    if ((int64_t)im.width * im.height < (1 << 16)) {
        ClipPreprocess p;
        p.size = 16;
        (void)clip_resize_crop(im, p);
    }
#else
#error "define one FUZZ_TARGET_<NAME>"
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        run(std::string((const char*)data, size));
    } catch (const Error&) {
        // a clear error is a correct answer to a bad input
    }
    return 0;
}
