// clip_train.h — CLIP and CLIP+VSD on raw pictures: `make train MODEL=clip [VSD=cpm|flor]`, and their
// evaluation. The paper's best rows; the official code is not released, so this is our
// reconstruction (SPEC §2.8), every choice a flag (README: deviation table):
//   pictures     <dataset>/images/ through <split>_ids.txt and id_mapping.json (the seed's layout),
//                decoded by our JPEG/PNG readers, OpenCLIP's preprocessing (image.h), no augmentation
//   model        OpenCLIP's CLIP from --clip_path (open_clip_config.json; its weights when present,
//                else OpenCLIP's random initialisation), fine-tuned whole (ClipMatcher, clip.h)
//   VSD          the BGE description (image side) and caption (text side) embeddings, reduced to CLIP's
//                embed_dim by a PCA fitted on the training descriptions (one row per image, seed 0),
//                unit norm, fused as VSD does: l2n(x + e); VSD's prototype loss (--proto, on with
//                --vsd) against centroids of the reduced descriptions (make prototypes MODEL=clip)
//   loss         --loss_type infonce (CLIP's, with the learnable temperature; default), or the
//                triplet / VSE++ losses of the other rows
//   schedule     AdamW, --clip_lr (1e-5 from pretrained weights, 5e-4 from scratch), weight decay
//                --weight_decay, the step decays of --lr_update/--lr_schedules, --num_epochs
//                (default 10), --batch_size, gradient clipping --grad_clip
//   selection    as the other rows (--val_split, --selection): best rsum on dev without VSD, the
//                last epoch (test monitored) with VSD
#pragma once
#include "trainer.h"

namespace vsd {

TrainResult train_clip(const TrainConfig& cfg);  // cfg finalized

// Is this checkpoint a CLIP model (its config says --model clip)?
bool is_clip_checkpoint(const std::string& path);
// Evaluation of a CLIP checkpoint on ec.split: the similarity matrix (images x captions), and the
// bookkeeping of r (counts, what, protocol, captions and image files for the report).
std::vector<double> clip_split_sims(const EvalConfig& ec, EvalResult& r, int* per);

}  // namespace vsd
