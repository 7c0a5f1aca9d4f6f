#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>
#include <fstream>
#include <sstream>

#include "../core/bf16.h"
#include "json.h"
#include "npy.h"  // write_file_atomic

namespace vsd {

const Tensor* SafeTensors::find(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.first == name) return &t.second;
    return nullptr;
}

std::map<std::string, std::string> safetensors_metadata(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), "check the checkpoint path", "%s: cannot open", path.c_str());
    const char* hint = "the file is truncated or not a safetensors file; re-create it";
    unsigned char len[8];
    ENSURE_HINT(f.read((char*)len, 8), hint, "%s: too short for a safetensors header", path.c_str());
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | len[k];
    ENSURE_HINT(hlen < (100u << 20), hint, "%s: header length %llu", path.c_str(), (unsigned long long)hlen);
    std::string header(hlen, '\0');
    ENSURE_HINT(f.read(&header[0], (std::streamsize)hlen), hint, "%s: the file ends inside its %llu-byte header", path.c_str(),
                (unsigned long long)hlen);
    const Json h = Json::parse(header, path + " (header)");
    std::map<std::string, std::string> out;
    if (const Json* m = h.is_object() ? h.find("__metadata__") : nullptr)
        for (const auto& [k, v] : m->members("__metadata__")) out[k] = v.as_string("__metadata__ value");
    return out;
}

SafeTensors safetensors_load(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), "check the checkpoint path", "%s: cannot open", path.c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string data = ss.str();
    const char* hint = "the file is truncated or not a safetensors file; re-create it";
    ENSURE_HINT(data.size() >= 8, hint, "%s: too short for a safetensors header (%zu bytes)", path.c_str(), data.size());
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | (unsigned char)data[k];
    ENSURE_HINT(hlen <= data.size() - 8 && hlen < (100u << 20), hint,
                "%s: header length %llu does not fit in the file (%zu bytes)", path.c_str(), (unsigned long long)hlen,
                data.size());
    Json h = Json::parse(data.substr(8, hlen), path + " (header)");
    ENSURE_HINT(h.is_object(), hint, "%s: the header is not a JSON object", path.c_str());
    const size_t base = 8 + hlen, body = data.size() - base;
    SafeTensors out;
    std::set<std::string> names;
    std::vector<std::tuple<int64_t, int64_t, std::string>> ranges;  // [begin, end) of each tensor's bytes
    for (const auto& [name, v] : h.members()) {
        ENSURE_HINT(names.insert(name).second, hint, "%s: tensor %s appears twice in the header", path.c_str(), name.c_str());
        if (name == "__metadata__") {
            for (const auto& [k, s] : v.members("__metadata__")) out.metadata[k] = s.as_string("__metadata__ value");
            continue;
        }
        const std::string& dt = v["dtype"].as_string("dtype");
        Shape shape;
        for (const Json& d : v["shape"].items("shape")) shape.push_back(d.as_int("shape"));
        ENSURE(shape.size() <= 4, "%s: tensor %s has %zu dims (at most 4 supported)", path.c_str(), name.c_str(), shape.size());
        const auto& off = v["data_offsets"].items("data_offsets");
        ENSURE_HINT(off.size() == 2, hint, "%s: tensor %s: data_offsets must be [begin, end]", path.c_str(), name.c_str());
        const int64_t b = off[0].as_int(), e = off[1].as_int();
        size_t esize = dt == "F32" || dt == "I32" ? 4 : dt == "F16" || dt == "BF16" ? 2 : dt == "I64" ? 8 : 0;
        ENSURE_HINT(esize, "convert the weights to F32/F16/BF16", "%s: tensor %s has unsupported dtype %s", path.c_str(),
                    name.c_str(), dt.c_str());
        const int64_t nbytes = checked_bytes(shape, (int64_t)esize, path + ": tensor " + name);
        const int64_t n = esize ? nbytes / (int64_t)esize : 0;
        ENSURE_HINT(b >= 0 && e >= b && (uint64_t)e <= body && e - b == nbytes, hint,
                    "%s: tensor %s: offsets [%lld, %lld) do not hold %s %s (%lld bytes) within the %zu data bytes",
                    path.c_str(), name.c_str(), (long long)b, (long long)e, dt.c_str(), vsd::shape_str(shape).c_str(),
                    (long long)nbytes, body);
        if (e > b) ranges.emplace_back(b, e, name);
        const char* src = data.data() + base + b;
        Tensor t;
        if (dt == "I64") {
            t = Tensor::empty(shape, DType::I64);
            if (n) std::memcpy(t.raw(), src, n * 8);
        } else if (dt == "I32") {
            t = Tensor::empty(shape, DType::I32);
            if (n) std::memcpy(t.raw(), src, n * 4);
        } else {
            t = Tensor::empty(shape);
            float* p = t.data();
            for (int64_t i = 0; i < n; i++) {
                if (dt == "F32") std::memcpy(&p[i], src + 4 * i, 4);
                else {
                    uint16_t u;
                    std::memcpy(&u, src + 2 * i, 2);
                    p[i] = dt == "BF16" ? float_from_bf16(u) : half_to_float(u);
                }
            }
        }
        out.tensors.push_back({name, t});
    }
    // no two tensors may share bytes (the format's rule; a crafted file could alias them)
    std::sort(ranges.begin(), ranges.end());
    for (size_t k = 1; k < ranges.size(); k++)
        ENSURE_HINT(std::get<0>(ranges[k]) >= std::get<1>(ranges[k - 1]), hint, "%s: tensors %s and %s overlap in the data",
                    path.c_str(), std::get<2>(ranges[k - 1]).c_str(), std::get<2>(ranges[k]).c_str());
    return out;
}

void safetensors_save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\": {";
        bool first = true;
        for (const auto& [k, v] : metadata) {
            header += (first ? "" : ", ") + json_quote(k) + ": " + json_quote(v);
            first = false;
        }
        header += "}";
    }
    std::string body;
    for (const auto& [name, t] : tensors) {
        ENSURE(!t.is_cuda(), "safetensors_save: %s is on the GPU; copy it to the CPU first", name.c_str());
        const char* dt = t.dtype() == DType::F32 ? "F32" : t.dtype() == DType::I32 ? "I32" : "I64";
        std::string dims;
        for (int k = 0; k < t.ndim(); k++) dims += (k ? ", " : "") + std::to_string(t.size(k));
        size_t b = body.size();
        body.append((const char*)t.raw(), t.numel() * dtype_size(t.dtype()));
        header += std::string(header.size() > 1 ? ", " : "") + json_quote(name) + ": {\"dtype\": \"" + dt +
                  "\", \"shape\": [" + dims + "], \"data_offsets\": [" + std::to_string(b) + ", " +
                  std::to_string(body.size()) + "]}";
    }
    header += "}";
    while ((8 + header.size()) % 8) header += ' ';  // align the data to 8 bytes
    std::string out(8, '\0');
    uint64_t hl = header.size();
    for (int k = 0; k < 8; k++) out[k] = (char)((hl >> (8 * k)) & 0xff);
    write_file_atomic(path, out + header + body);
}

}  // namespace vsd
