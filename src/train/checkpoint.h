// checkpoint.h — checkpoints in safetensors layout, written atomically.
//
// Contents: every model tensor under the reference's PyTorch name ("img_enc.fc.weight", ...),
// BatchNorm buffers included; the AdamW moments as "optimizer.exp_avg.<name>" and
// "optimizer.exp_avg_sq.<name>"; and metadata strings: format, epoch (the next epoch to run),
// step_in_epoch, global_step, adam_steps, seed, best_rsum and the run's config as JSON.
// The sampler and augmentation draw from (seed, epoch, step), so these restore the random state too.
#pragma once
#include <map>
#include <string>

#include "../data/safetensors.h"
#include "../nn/module.h"
#include "optim.h"

namespace vsd {

void save_checkpoint(const std::string& path, const Module& model, const AdamW* opt,
                     const std::map<std::string, std::string>& meta);
// Load the model tensors; every missing, unexpected or mis-shaped tensor is listed in one error.
// Tensors whose names start with "optimizer." are ignored here. Model tensors under one of
// `optional_prefixes` may be absent (they keep their initial values).
void load_model_weights(Module& model, const SafeTensors& st, const std::string& source,
                        const std::vector<std::string>& optional_prefixes = {});
void load_optimizer_state(AdamW& opt, const Module& model, const SafeTensors& st, const std::string& source);
// A metadata value of a checkpoint, parsed: a missing key or garbage is an error naming the file and the key.
int64_t checkpoint_meta_int(const SafeTensors& st, const std::string& key, const std::string& source);  // >= 0
double checkpoint_meta_double(const SafeTensors& st, const std::string& key, const std::string& source);

}  // namespace vsd
