// safetensors.h — the safetensors format: 8-byte little-endian header length, a JSON header
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the
// raw little-endian tensor bytes. Used for our checkpoints and for Hugging Face model weights.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.h"

namespace vsd {

struct SafeTensors {
    std::vector<std::pair<std::string, Tensor>> tensors;  // file order; F32 (F16/BF16 converted) or I64/I32
    std::map<std::string, std::string> metadata;
    const Tensor* find(const std::string& name) const;
};

// Read and validate (offsets inside the file, contiguous, sizes matching dtype x shape).
SafeTensors safetensors_load(const std::string& path);
// Only the header's "__metadata__" (the tensors are not read): what a checkpoint says of itself.
std::map<std::string, std::string> safetensors_metadata(const std::string& path);
// Write atomically (temporary + fsync + rename). F32, I32 and I64 tensors.
void safetensors_save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace vsd
