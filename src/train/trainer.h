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

struct TrainConfig {
    // data
    std::string data_path = "data", dataset = "demo", vocab_path = "", vsd = "none";
    // model
    std::string model = "gpo", text_encoder = "bert";  // bert (every paper row) or bigru (vse_infty's bigru branch)
    std::string cap_emb = "auto";  // caption-embedding file: cap_bge (GPO+VSD), cap_bge_cpm (HREM+VSD)
    std::string bert_path = "bert-base-uncased";  // model folder: config.json, vocab.txt[, model.safetensors]
    float bert_lr_factor = -1.0f;                  // -1: 0.05 with --vsd (VSD), 0.1 otherwise (GPO)
    int64_t embed_size = 1024, word_dim = 300, img_dim = 2048;
    // HREM (paper-notes §2.4, 2.5; the reference's extra_parameters names)
    int64_t nhead = 16;
    float dropout = 0.1f, residual_weight = 0.8f;
    bool maxk_reference = false;   // the reference's shared-k MaxK quirk (ours: per-sample k)
    bool relation = true;          // the instance-level relation module (off: HREM's encoders alone)
    int64_t warmup = 8000;         // iterations before the relation module switches on
    float mask_weight = -1.0f;     // -1: 1.5 for coco, 1.0 otherwise
    float threshold = 0.5f, reg_loss_weight = 10.0f, graph_lr_factor = 1.0f;
    int topk = 10;
    std::string connections = "intra";  // intra: V V^T, T T^T (the official code); cross: V T^T, T V^T (HREM's first upload)
    // optimisation (GPO BiGRU branch defaults, paper-notes §4.1)
    int64_t batch_size = -1;       // -1: 128; 256 on coco for VSD and HREM (plain GPO keeps 128, as vse_infty)
    int num_epochs = -1;           // -1: 25 (GPO, VSD, HREM+VSD), 30 (HREM)
    float learning_rate = 5e-4f;
    int lr_update = -1;            // decay x decay_rate at this epoch (-1: 15) ...
    std::string lr_schedules = ""; // ... or at each of these ("15,25"); overrides lr_update (VSD, HREM: 15,25)
    float decay_rate = 0.1f;
    float weight_decay = -1.0f;    // -1: 0.01 for BiGRU (PyTorch's AdamW default), 1e-4 otherwise
    float grad_clip = 2.0f;
    // loss
    std::string loss_type = "";    // vse or trip; "" = vse for GPO, trip with VSD (as the reference)
    float margin = 0.2f;
    int vse_mean_warmup_epochs = -1;  // -1: 1 (GPO's scripts, HREM), 0 (GPO+VSD); only the VSE++ loss reads it
    bool mask_repeat = false;         // VSE++: mask every pair of the same image (VSD/HREM); vse_infty: the diagonal only
    float trip_cutoff = -1.0f;     // -1: 1.9 for coco, 1.7 otherwise
    bool trip_reference_skip = false;
    // VSD prototype-level alignment (paper-notes §2.7): on by default whenever --vsd is set
    int proto = -1;                 // -1: on with --vsd; 0/1 force
    std::string proto_path = "";    // folder of <dataset>_minicpm_kmeans_centroids_<K>.npy (default <data_path>/<dataset>/proto)
    int64_t num_prototypes = 0;     // K; 0 = the only centroid file in proto_path
    float proto_weight = 1.0f, sk_epsilon = 0.05f, proto_temperature = 0.1f;
    int sinkhorn_iterations = 3;
    // augmentation
    bool size_augment = true, token_augment = true;
    bool check_inputs = true;  // every feature and embedding row read must be finite (one error naming file, row, column)
    // run
    std::string logger_name = "runs/demo", resume = "";
    bool resume_anyway = false;       // resume although the flags differ from the checkpoint's (no longer exact)
    std::string init_from = "";       // initial weights (ours, or a reference checkpoint), instead of the random init
    std::string replay = "", trace = "";  // recorded batches to train on; per-step JSON lines (src/train/replay.h)
    std::string val_split = "auto";   // split validated each epoch: dev, or test/testall (auto: see above)
    std::string selection = "auto";   // best (best rsum on val_split) or last (the last epoch); auto: see above
    bool save_fold5 = false;          // COCO testall: validate with the 5-fold 1K rsum (the reference's --save_fold5)
    bool dry_run = false;             // print the resolved configuration and the files it reads, then stop
    int log_step = 10, workers = 1;
    uint64_t seed = 0;
    int64_t max_steps = 0;  // stop (and checkpoint) after this many steps in total; 0 = no limit
    std::string device = "cpu";  // cpu, or cuda: the model, the batches and the optimiser on the device
    int cudnn = 0;               // 1: cuDNN's GRU on the GPU (kernels/cudnn.h); 0: our kernels
    int tf32 = 0;                // 1: cuBLAS/cuDNN may use TF32 tensor cores on the device
    bool validate = true;
    bool progress = true;

    void add_flags(Flags& f);
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
