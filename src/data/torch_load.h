// torch_load.h — read PyTorch checkpoints (torch.save's zip format: pytorch_model.bin,
// model_best.pth) without Python and without executing anything.
//
// The file is a ZIP archive (entries stored, not compressed) holding <name>/data.pkl, a pickle that
// describes the object, and <name>/data/<key>, the raw bytes of each tensor storage. We read the
// ZIP directory, then run a small pickle interpreter that knows only the opcodes a saved state
// dict uses. Globals are looked up in an allow-list: OrderedDict, torch._utils._rebuild_tensor_v2 /
// _rebuild_parameter, the typed storages, and, for the reference's model_best.pth, argparse.Namespace,
// numpy scalars and _codecs.encode (how protocol 2 spells bytes), all kept as plain data. Anything else is refused with an error naming it; nothing
// is ever executed.
#pragma once
#include <string>

#include <cstdint>
#include <vector>

#include "safetensors.h"

namespace vsd {

// All tensors of the checkpoint, flattened: nested dict keys and list indices joined with '.'
// ("model.0.fc.weight"); non-tensor leaves (numbers, strings) go to metadata as text.
SafeTensors torch_load(const std::string& path);

// Is this file a zip (PyTorch) checkpoint? (by its first 9 bytes: a zip's magic and no safetensors header)
bool is_torch_checkpoint(const std::string& path);

// A weights file of either kind: safetensors, or a PyTorch zip checkpoint.
SafeTensors load_weights_file(const std::string& path);
// The similarity matrix the reference's evalrank(save_path=...) saves: np.save of
// {'npts': N, 'sims': (N, 5N) array}, a .npy object array whose data (from `offset`) is a pickle,
// read with the same allow-list as checkpoints (numpy's array reconstruction only).
std::vector<double> load_pickled_sims(const std::string& path, size_t offset, int64_t* n_img, int64_t* n_cap);

// The weights of a Hugging Face model folder: model.safetensors, else pytorch_model.bin; "" if none.
std::string find_model_weights(const std::string& dir);

}  // namespace vsd
