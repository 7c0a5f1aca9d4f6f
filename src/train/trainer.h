// trainer.h — training and evaluation of the matching models (paper-notes §4, 5).
//
// Flags carry the reference's argument names (--batch_size, --num_epochs, --learning_rate,
// --lr_update, --margin, --embed_size, --data_path, --dataset, --logger_name, --workers, ...).
// Every "auto" value resolves, from --model, --vsd, --dataset and --text_encoder, to the recipe of
// the reference that trained that paper row (paper-notes §4.1-4.2; `train --dry_run` prints it):
//   GPO        vse_infty (master BERT / bigru): VSE++ (sum for 1 epoch, then max-violation, the
//              diagonal masked), 25 epochs, decay at 15, batch 128 (COCO too), BERT lr x0.1
//   GPO+VSD    VSD's root scripts: triplet + prototype loss, 25 epochs, decays [15, 25], batch
//              128 / 256 (COCO), BERT lr x0.05, the caption embeddings <split>_cap_bge.npy
//   HREM       CrossmodalGroup/HREM: triplet, 30 epochs, decays [15, 25], batch 128 / 256, BERT
//              lr x0.1, mask_weight 1.0 / 1.5, the relation module after 8000 iterations
//   HREM+VSD   VSD_HREM's scripts: HREM's losses + the prototype loss, 25 epochs, decays [15, 25],
//              BERT lr x0.05, the caption embeddings <split>_cap_bge_cpm.npy
// Model selection (--val_split, --selection): best rsum on dev when dev has every file the model
// reads; with --vsd and no dev embeddings (the release ships none), VSD's protocol: the last epoch,
// with the test split's metrics printed each epoch for monitoring only. HREM's select-best-on-test
// is --val_split test --selection best, and is labelled so in every output.
// Where we deliberately differ from the reference, the reference behaviour is a flag away:
//   --selection best on dev  (reference VSD/HREM: test; see above)
//   --trip_reference_skip 0  (reference: 1, an anchor without a negative zeroes its direction)
//   --seed 0                 (the reference sets no seed; ours makes a CPU run repeatable)
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "../core/flags.h"
#include "../data/batch.h"
#include "../data/safetensors.h"
#include "../nn/vse.h"
#include "metrics.h"

namespace vsd {

// The tensors of a loader batch that the model reads (models know nothing of the loader's structs)
inline ModelInput model_input(const Batch& b) {
    return {b.images, b.img_lengths, b.tokens, b.lengths, b.desc_emb, b.cap_emb};
}

// Every training flag, declared once: X(type, name, default, role, help). The members of
// TrainConfig, `train --help`, the config JSON (run.json, checkpoint metadata, --dry_run) and the
// resume check all come from this list. Roles (core/flags.h): Recipe flags shape training and must
// match the checkpoint on --resume; Setting flags are recorded but free to change; Local flags
// concern this invocation only. Defaults of -1 / "auto" are resolved by finalize() per recipe.
#define VSD_TRAIN_FLAGS(X) \
    X(std::string, data_path, "data", Setting, "folder holding <dataset>/precomp (or <dataset>_precomp)") \
    X(std::string, dataset, "demo", Recipe, "f30k, coco or demo") \
    X(std::string, vocab_path, "", Setting, "SCAN vocab folder (default <data_path>/vocab)") \
    X(std::string, vsd, "none", Recipe, "VSD descriptions: none, cpm (†, MiniCPM-V) or flor (⋆, Florence-2)") \
    X(std::string, model, "gpo", Recipe, "gpo, hrem, or clip (raw pictures through OpenCLIP's ViT; src/train/clip_train.h)") \
    X(std::string, clip_path, "auto", Setting, "CLIP: the OpenCLIP folder (open_clip_config.json, merges.txt, and weights when " "pretrained); auto: <data_path>/<dataset>/CLIP when it exists, else CLIP") \
    X(float, clip_lr, -1.0f, Recipe, "CLIP: learning rate (-1: 1e-5 from pretrained weights, 5e-4 from scratch)") \
    X(int64_t, image_cache_mb, 4096, Local, "CLIP: keep decoded, cropped pictures in memory up to this many MB") \
    X(bool, exif_orientation, true, Recipe, "CLIP: turn each JPEG as its EXIF Orientation tag says (0: as stored, as PIL's " "Image.open and so OpenCLIP read it)") \
    X(std::string, text_encoder, "bert", Recipe, "bert (the paper's rows) or bigru (vse_infty's bigru branch: GPO, HREM)") \
    X(std::string, cap_emb, "auto", Recipe, "caption-embedding file <split>_<this>.npy: cap_bge (GPO+VSD's loader) or cap_bge_cpm " "(HREM+VSD's); auto: the one the model's reference reads") \
    X(std::string, bert_path, "bert-base-uncased", Setting, "BERT model folder (config.json, vocab.txt; weights from model.safetensors when present)") \
    X(float, bert_lr_factor, -1.0f, Recipe, "BERT's lr multiplier (-1: 0.05 with --vsd as VSD, 0.1 as GPO)") \
    X(int64_t, embed_size, 1024, Recipe, "joint embedding size") \
    X(int64_t, word_dim, 300, Recipe, "word embedding size (BiGRU)") \
    X(int64_t, img_dim, 2048, Recipe, "region feature size") \
    X(int64_t, nhead, 16, Recipe, "HREM: attention heads of its Transformer layers") \
    X(float, dropout, 0.1f, Recipe, "HREM: dropout of its Transformer layers") \
    X(float, residual_weight, 0.8f, Recipe, "HREM: weight of the MaxK path (v = l2n(w maxk + (1-w) attention))") \
    X(bool, maxk_reference, false, Recipe, "HREM: the reference's MaxK quirk (k shared across the batch once a sample is short)") \
    X(bool, relation, true, Recipe, "HREM: train with the instance-level relation module (0: encoders only)") \
    X(int64_t, warmup, 8000, Recipe, "HREM: iterations before the relation module switches on") \
    X(float, mask_weight, -1.0f, Recipe, "HREM: relevance scale in the graph attention mask (-1: 1.5 coco, 1.0 otherwise)") \
    X(float, threshold, 0.5f, Recipe, "HREM: connections = the top int(threshold * B) of each row") \
    X(int, topk, 10, Recipe, "HREM: K of the cross-modal relevance statistics") \
    X(float, reg_loss_weight, 10.0f, Recipe, "HREM: weight of the relevance regulariser") \
    X(float, graph_lr_factor, 1.0f, Recipe, "HREM: lr multiplier of the relation module's parameters") \
    X(std::string, connections, "intra", Recipe, "HREM: connection masks by intra-modal similarity (intra: V V^T, T T^T, the official " "code since HREM@fb854a9 and VSD_HREM) or cross-modal (cross: V T^T, T V^T, HREM's first upload)") \
    X(int64_t, batch_size, -1, Recipe, "batch size (-1: 128; 256 on coco for VSD and HREM, as their scripts)") \
    X(int, num_epochs, -1, Setting, "epochs (-1: 25; plain HREM 30)") \
    X(float, learning_rate, 5e-4f, Recipe, "base learning rate") \
    X(int, lr_update, -1, Recipe, "epoch at which the lr decays (x decay_rate); -1: 15") \
    X(std::string, lr_schedules, "", Recipe, "comma-separated decay epochs, overrides --lr_update (e.g. 15,25)") \
    X(float, decay_rate, 0.1f, Recipe, "lr decay factor") \
    X(float, weight_decay, -1.0f, Recipe, "AdamW weight decay (-1: 0.01 for BiGRU as the reference, else 1e-4)") \
    X(float, grad_clip, 2.0f, Recipe, "clip the global gradient norm to this (0: off)") \
    X(std::string, loss_type, "", Recipe, "vse (VSE++ hinge), trip (distance-weighted triplet) or infonce (CLIP's); default: vse for GPO, trip with VSD, infonce for CLIP") \
    X(float, margin, 0.2f, Recipe, "margin of both losses") \
    X(int, vse_mean_warmup_epochs, -1, Recipe, "VSE++: epochs with the summed hinge before max-violation (-1: 1; GPO+VSD 0)") \
    X(bool, mask_repeat, false, Recipe, "VSE++: 1 masks every pair of the same image (VSD/HREM's option); 0: the diagonal only, as vse_infty") \
    X(float, trip_cutoff, -1.0f, Recipe, "triplet: distance cutoff (-1: 1.9 coco, 1.7 otherwise)") \
    X(bool, trip_reference_skip, false, Recipe, "triplet: zero a whole direction when an anchor has no negative (reference)") \
    X(int, proto, -1, Recipe, "VSD prototype loss: -1 on with --vsd, 0 off, 1 on") \
    X(std::string, proto_path, "", Setting, "folder with <dataset>_minicpm_kmeans_centroids_<K>.npy (default <data_path>/<dataset>/proto)") \
    X(int64_t, num_prototypes, 0, Recipe, "K of the centroid file (0: the only one in --proto_path)") \
    X(float, proto_weight, 1.0f, Recipe, "weight of the prototype loss") \
    X(float, sk_epsilon, 0.05f, Recipe, "Sinkhorn epsilon") \
    X(int, sinkhorn_iterations, 3, Recipe, "Sinkhorn iterations") \
    X(float, proto_temperature, 0.1f, Recipe, "softmax temperature of the swapped prediction") \
    X(bool, size_augment, true, Recipe, "drop regions at train time (keep iff u > 0.2)") \
    X(bool, token_augment, true, Recipe, "mask/replace/delete tokens at train time") \
    X(bool, check_inputs, true, Local, "every region feature and embedding row read must be finite: a NaN/Inf is one error " "naming the file, row and column (0: not checked, as the reference)") \
    X(std::string, logger_name, "runs/demo", Setting, "run folder: log, checkpoints, evaluation results") \
    X(std::string, resume, "", Local, "continue exactly from this checkpoint") \
    X(std::string, init_from, "", Setting, "start from these weights (ours, or a reference {'model': [img_enc, txt_enc]} checkpoint)") \
    X(std::string, replay, "", Recipe, "train on the recorded batches of this folder (batches.safetensors; the trajectory tests)") \
    X(std::string, trace, "", Local, "write one JSON line per step: lr, loss terms, gradient norm, parameter sums, BatchNorm statistics") \
    X(bool, resume_anyway, false, Local, "resume although flags that shape training differ from the checkpoint's (the run is then no longer exact)") \
    X(std::string, val_split, "auto", Setting, "split validated after every epoch: dev, test or testall; auto: dev when it has every file " "the model reads, otherwise the test split (VSD: the release has no dev embeddings)") \
    X(std::string, selection, "auto", Setting, "model_best: best (best rsum on --val_split) or last (the last epoch, VSD's protocol); " "auto: last for VSD validated on the test split, best otherwise. HREM's protocol: --val_split test --selection best") \
    X(bool, save_fold5, false, Setting, "COCO: validate testall by the 5-fold 1K rsum (the reference's --save_fold5)") \
    X(bool, dry_run, false, Local, "print the resolved configuration and every file it would read, then stop") \
    X(int, log_step, 10, Local, "log a line every this many steps") \
    X(int, workers, 1, Local, "accepted for compatibility; batches are prepared by one background thread") \
    X(uint64_t, seed, 0, Recipe, "random seed (initialisation, shuffling, augmentation, sampling)") \
    X(int64_t, max_steps, 0, Local, "stop after this many steps in total, with a checkpoint (0: run all epochs)") \
    X(bool, validate, true, Local, "validate after every epoch") \
    X(bool, progress, true, Local, "show a progress line with ETA") \
    X(bool, tensorboard, true, Local, "write TensorBoard event files into the run folder (the reference's tags; tensorboard --logdir runs)") \
    X(std::string, device, "cpu", Setting, "cpu; cuda: train on the GPU (model, batches, optimiser; the data loader stays on the host); " "emulator: the same kernels in the CUDA emulator (slow)") \
    X(int, tf32, 0, Setting, "1: on the device, GEMMs may run on TF32 tensor cores (faster, ~1e-3 relative error); 0: FP32. The older spelling of --precision tf32") \
    X(std::string, precision, "fp32", Setting, "the device's GEMMs: fp32; tf32 (TF32 tensor cores); bf16 (mixed precision: inputs rounded to bfloat16, FP32 sums, FP32 weights and everything else)") \
    X(int, cudnn, 0, Setting, "1: cuDNN runs the BiGRU (and BERT's attention when validating); needs --device cuda on a GPU. 0: our own kernels, the reference")

struct TrainConfig {
#define VSD_TRAIN_MEMBER(type, name, def, role, help) type name = def;
    VSD_TRAIN_FLAGS(VSD_TRAIN_MEMBER)
#undef VSD_TRAIN_MEMBER

    void add_flags(Flags& f);
    static Flags::Record role_of(const std::string& flag);  // as declared (Local for an unknown name)
    void finalize();  // resolve the "auto" values above (selection reads which dev files exist)
    std::string to_json() const;
    std::string row_name() const;     // "GPO+VSD†", "HREM", ...
    std::string test_split() const;   // testall for coco, test otherwise
    std::string protocol() const;     // best_on_dev, best_on_test or last_epoch (after finalize)
};

struct TrainResult {
    RetrievalMetrics last_val, best_val;
    int64_t steps = 0;
    double seconds = 0;
    std::string checkpoint, best_checkpoint;
};

TrainResult train(TrainConfig cfg);
// The step profiler's hook (tools/step_profile.cpp): called after every optimiser step with the
// global step (1-based) and the batch's padded caption length. Empty: none.
void set_step_observer(std::function<void(int64_t step, int64_t caption_length)> f);

// Evaluation of a checkpoint (or of an in-memory model) on a split.
struct EvalConfig {
    std::string checkpoint = "", data_path = "", dataset = "", split = "test", save_sims = "", ensemble = "";
    std::string vsd = "none", bert_path = "";  // for the reference's model_best.pth, which does not record them
    std::string model = "";        // for a reference checkpoint: gpo or hrem (default: from its keys)
    bool bge_only = false;         // rank by the description and caption embeddings alone (VSD's eval_bge.py)
    std::string out_json = "";
    std::string device = "cpu";  // cpu or cuda: where the encoders run
    int cudnn = 0;               // 1: cuDNN's GRU and BERT attention on the GPU
    int tf32 = 0;                // 1: TF32 GEMMs on the device
    std::string precision = "fp32";  // fp32, tf32 or bf16: the device's GEMMs
    bool fold5 = false;  // COCO 1K protocol on testall (default when dataset == coco and split == testall)
    int64_t batch_size = 128;
    bool progress = true;
};
struct EvalResult {
    RetrievalMetrics full, fold5;
    bool has_fold5 = false;
    int64_t n_img = 0, n_cap = 0;
    std::string protocol;  // how the checkpoint was selected while training (best_on_dev, ...), when known
    std::string what;      // one line: the model and where it came from
    // what the report shows (report.h): the matrix, and the split's captions and image files when known
    std::vector<double> sims;
    QueryRanks ranks;
    int per = 5;
    std::vector<std::string> captions, image_files;
};
EvalResult evaluate_checkpoint(const EvalConfig& ec);

// The model of a checkpoint, in eval mode on the CPU, and the configuration it resolves to: ours
// (the training config travels in its metadata), or a reference model_best.pth of any of the five
// families (vse_infty master and bigru, VSD, HREM, VSD_HREM; names mapped, unused tensors reported).
struct LoadedModel {
    TrainConfig cfg;
    std::unique_ptr<VSEModel> model;
    int64_t vocab_rows = 0;  // BiGRU: rows of the word embedding
    std::string what, protocol;
};
LoadedModel load_checkpoint_model(const EvalConfig& ec);

// A split of the configuration's dataset (its VSD files as the model reads them), and the text
// front (tokenizer or vocabulary) the configuration's text encoder takes.
PrecompDataset open_split(const TrainConfig& c, const std::string& split, bool verbose = false);
std::unique_ptr<TextFront> make_text_front(const TrainConfig& c);

// Embeddings of a whole split, in dataset order: images (N_img, E) from rows im_div*i, captions (length, E).
struct Embeddings {
    std::vector<float> img, cap;
    int64_t n_img = 0, n_cap = 0, E = 0;
};
Embeddings encode_split(VSEModel& model, const PrecompDataset& d, const TextFront& text, int64_t batch, bool progress);
// sims = img (N x E) . cap (5N x E)^T, in double as the reference's numpy
std::vector<double> similarities(const Embeddings& e);

// The epochs at which the lr decays (x decay_rate): --lr_schedules, else --lr_update.
std::vector<int> decay_epochs(const TrainConfig& c);

// The model configuration a training configuration builds (after finalize()).
ModelConfig model_config(const TrainConfig& c, int vocab_size);

// Our parameter name for a reference one ("img_enc.gpo.linear.weight" -> "img_enc.gpool.linear.weight",
// HREM's "img_enc.fc.fc.*" -> "img_enc.fc.*", its relation module's "criterion.adj_model.adj_learning.mlp_t2i.*"
// -> "criterion.adj_t2i.*"); "" for tensors the forward never uses (gated_fusion.*,
// position_ids). Names that are already ours pass through.
std::string our_name_of_reference(const std::string& name);
// A reference state {'model': [img_enc, txt_enc(, HREM's relation module)]}, as torch_load flattens it
// ("model.<i>.<key>", DataParallel's "module." dropped), under our names; the tensors the forward never
// uses go to `ignored`.
SafeTensors reference_state_as_ours(const SafeTensors& st, std::vector<std::string>* ignored = nullptr);

}  // namespace vsd
