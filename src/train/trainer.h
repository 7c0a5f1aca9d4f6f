// trainer.h — training and evaluation of the matching models (SPEC 4, 5).
//
// Flags carry the reference's argument names (--batch_size, --num_epochs, --learning_rate,
// --lr_update, --margin, --embed_size, --data_path, --dataset, --logger_name, --workers, ...).
// Where we deliberately differ from the reference, the reference behaviour is a flag away:
//   --val_split dev          (reference VSD/HREM: --val_split test, selecting on the test split)
//   --trip_reference_skip 0  (reference: 1, an anchor without a negative zeroes its direction)
//   --seed 0                 (the reference sets no seed; ours makes a CPU run repeatable)
#pragma once
#include <string>

#include "../core/flags.h"
#include "../nn/vse.h"
#include "metrics.h"

namespace vsd {

struct TrainConfig {
    // data
    std::string data_path = "data", dataset = "demo", vocab_path = "", vsd = "none";
    // model
    std::string model = "gpo", text_encoder = "bigru";
    std::string bert_path = "bert-base-uncased";  // model folder: config.json, vocab.txt[, model.safetensors]
    float bert_lr_factor = -1.0f;                  // -1: 0.05 with --vsd (VSD), 0.1 otherwise (GPO)
    int64_t embed_size = 1024, word_dim = 300, img_dim = 2048;
    // HREM (SPEC 2.4, 2.5; the reference's extra_parameters names)
    int64_t nhead = 16;
    float dropout = 0.1f, residual_weight = 0.8f;
    bool maxk_reference = false;   // the reference's shared-k MaxK quirk (ours: per-sample k)
    bool relation = true;          // the instance-level relation module (off: HREM's encoders alone)
    int64_t warmup = 8000;         // iterations before the relation module switches on
    float mask_weight = -1.0f;     // -1: 1.5 for coco, 1.0 otherwise
    float threshold = 0.5f, reg_loss_weight = 10.0f, graph_lr_factor = 1.0f;
    int topk = 10;
    // optimisation (GPO BiGRU branch defaults, SPEC 4.1)
    int64_t batch_size = 128;
    int num_epochs = -1;           // -1: 25 (GPO, VSD), 30 (HREM)
    float learning_rate = 5e-4f;
    int lr_update = 15;            // decay x decay_rate at this epoch ...
    std::string lr_schedules = ""; // ... or at each of these ("15,25"); overrides lr_update (HREM: 15,25)
    float decay_rate = 0.1f;
    float weight_decay = -1.0f;    // -1: 0.01 for BiGRU (PyTorch's AdamW default), 1e-4 otherwise
    float grad_clip = 2.0f;
    // loss
    std::string loss_type = "";    // vse or trip; "" = vse for GPO, trip with VSD (as the reference)
    float margin = 0.2f;
    int vse_mean_warmup_epochs = 1;
    bool mask_repeat = true;
    float trip_cutoff = -1.0f;     // -1: 1.9 for coco, 1.7 otherwise
    bool trip_reference_skip = false;
    // VSD prototype-level alignment (SPEC 2.7): on by default whenever --vsd is set
    int proto = -1;                 // -1: on with --vsd; 0/1 force
    std::string proto_path = "";    // folder of <dataset>_minicpm_kmeans_centroids_<K>.npy (default <data_path>/<dataset>/proto)
    int64_t num_prototypes = 0;     // K; 0 = the only centroid file in proto_path
    float proto_weight = 1.0f, sk_epsilon = 0.05f, proto_temperature = 0.1f;
    int sinkhorn_iterations = 3;
    // augmentation
    bool size_augment = true, token_augment = true;
    // run
    std::string logger_name = "runs/demo", resume = "", val_split = "dev";
    int log_step = 10, workers = 1;
    uint64_t seed = 0;
    int64_t max_steps = 0;  // stop (and checkpoint) after this many steps in total; 0 = no limit
    std::string device = "cpu";  // cpu, or cuda: the model, the batches and the optimiser on the device
    int cudnn = 0;               // 1: cuDNN's GRU on the GPU (kernels/cudnn.h); 0: our kernels
    int tf32 = 0;                // 1: cuBLAS/cuDNN may use TF32 tensor cores on the device
    bool validate = true;
    bool progress = true;

    void add_flags(Flags& f);
    void finalize();  // resolve the "auto" values above
    std::string to_json() const;
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
};
EvalResult evaluate_checkpoint(const EvalConfig& ec);

}  // namespace vsd
