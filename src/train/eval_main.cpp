// eval — `make eval`: R@1/5/10 in both directions, medr, meanr and rsum of a checkpoint (paper-notes §5).
//   eval --logger_name runs/demo                      model_best.safetensors on the test split
//   eval --checkpoint X --dataset coco --split testall   COCO 5K, plus the 5-fold 1K average
//   eval --ensemble a.npy,b.npy                          average saved similarity matrices
//   eval --checkpoint model_best.pth --data_path D       a checkpoint trained by the reference (vse_infty
//                                                        master/bigru, VSD, HREM, VSD_HREM): names mapped
//   eval --checkpoint runs/coco/model_best.safetensors --dataset f30k    cross-dataset (eval_cocoxf30k)
//   eval --bge_only --dataset f30k --vsd cpm             rank by the BGE embeddings alone (eval_bge.py)
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "../core/check.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "report.h"
#include "trainer.h"

using namespace vsd;

static int body(int argc, char** argv) {
    EvalConfig ec;
    std::string logger_name = "runs/demo", fold5 = "auto";
    Flags f("eval", "evaluate a checkpoint on a split and print the paper's table");
    f.add("logger_name", &logger_name, "run folder; the checkpoint defaults to <logger_name>/model_best.safetensors");
    f.add("checkpoint", &ec.checkpoint, "checkpoint to evaluate");
    f.add("data_path", &ec.data_path, "dataset folder (default: the one the model was trained on)");
    f.add("dataset", &ec.dataset, "dataset (default: the training one)");
    f.add("split", &ec.split, "split: test (F30K 1K), testall (COCO 5K), dev");
    f.add("fold5", &fold5, "COCO 1K protocol, 5 folds of testall: auto (on for coco testall), 1 or 0");
    f.add("save_sims", &ec.save_sims, "save the similarity matrix (float64 .npy) for ensembles");
    f.add("ensemble", &ec.ensemble, "comma-separated saved similarity matrices to average instead of a checkpoint");
    f.add("out_json", &ec.out_json, "write the metrics here (default <checkpoint folder>/eval_<split>.json)");
    f.add("batch_size", &ec.batch_size, "encoding batch size");
    f.add("device", &ec.device, "cpu, cuda (the GPU), or emulator (the CUDA emulator: slow)");
    f.add("tf32", &ec.tf32, "1: on the device, GEMMs may run on TF32 tensor cores (= --precision tf32)");
    f.add("precision", &ec.precision, "the device's GEMMs: fp32, tf32 or bf16 (inputs rounded to bfloat16, FP32 sums)");
    f.add("cudnn", &ec.cudnn, "1: the BiGRU and BERT's attention run in cuDNN (needs --device cuda on a GPU)");
    f.add("vsd", &ec.vsd, "for a reference model_best.pth: the VSD descriptions it was trained with (none, cpm, flor)");
    f.add("bert_path", &ec.bert_path, "for a reference model_best.pth: the BERT folder (config.json, vocab.txt)");
    f.add("model", &ec.model, "for a reference model_best.pth: gpo or hrem (default: recognised from its tensor names)");
    bool report = true;
    f.add("report", &report, "write the HTML report (recall table, R@K curves, rank histogram, sampled queries, failures) beside the JSON");
    f.add("bge_only", &ec.bge_only, "no model: rank by the description and caption embeddings alone (VSD's eval_bge.py)");
    if (!f.parse(argc, argv)) return 0;
    if (ec.checkpoint.empty() && ec.ensemble.empty() && !ec.bge_only) ec.checkpoint = logger_name + "/model_best.safetensors";
    const bool coco_testall = ec.split == "testall";
    ec.fold5 = fold5 == "auto" ? coco_testall : (fold5 == "1" || fold5 == "true");
    EvalResult r = evaluate_checkpoint(ec);
    std::string title = ec.split + (coco_testall ? " (5K)" : "");
    // how the evaluated checkpoint was chosen while training, said with the numbers
    const std::string selected = r.protocol == "best_on_test" ? "model selected on the test split (HREM's protocol: optimistic)"
                                 : r.protocol == "best_on_dev" ? "model selected on dev"
                                 : r.protocol == "last_epoch"  ? "the last epoch (VSD's protocol)"
                                 : r.protocol == "reference"   ? "a reference checkpoint"
                                                               : "";
    if (!r.what.empty()) std::printf("%s\n", r.what.c_str());
    if (!selected.empty() && r.protocol != "reference") std::printf("checkpoint: %s\n", selected.c_str());
    std::printf("\n%lld images, %lld captions\n%s", (long long)r.n_img, (long long)r.n_cap,
                metrics_table(title, r.full).c_str());
    if (r.has_fold5) std::printf("%s", metrics_table(ec.split + " 5-fold 1K", r.fold5).c_str());
    std::string out = ec.out_json;
    if (out.empty()) {
        std::string base = ec.checkpoint.empty() ? logger_name : ec.checkpoint.substr(0, ec.checkpoint.rfind('/') + 1);
        if (ec.bge_only) base = logger_name;
        if (base.empty()) base = ".";
        if (base.back() != '/') base += '/';
        out = base + "eval_" + ec.split + (ec.ensemble.empty() ? "" : "_ensemble") + ".json";
    }
    if (ec.bge_only) {
        struct stat st;
        if (stat(logger_name.c_str(), &st) != 0) mkdir(logger_name.c_str(), 0755);
    }
    std::string json = "{\"split\": " + json_quote(ec.split) + ", \"checkpoint\": " + json_quote(ec.checkpoint) +
                       ", \"selection\": " + json_quote(r.protocol.empty() ? "unknown" : r.protocol) +
                       ", \"selection_note\": " + json_quote(selected) + ", \"model\": " + json_quote(r.what) + ", " +
                       strfmt("\"images\": %lld, \"captions\": %lld, \"metrics\": ", (long long)r.n_img, (long long)r.n_cap) +
                       metrics_json(r.full) + (r.has_fold5 ? ", \"fold5\": " + metrics_json(r.fold5) : "") + "}\n";
    write_file_atomic(out, json);
    std::printf("metrics written to %s\n", out.c_str());
    if (report) {  // the HTML report beside the JSON
        ReportData rd;
        rd.title = "Evaluation: " + title;
        rd.split = ec.split;
        rd.model = r.what + (selected.empty() ? "" : " (" + selected + ")");
        rd.full = r.full, rd.fold5 = r.fold5, rd.has_fold5 = r.has_fold5;
        rd.sims = std::move(r.sims);
        rd.ranks = std::move(r.ranks);
        rd.n_img = r.n_img, rd.n_cap = r.n_cap, rd.per = r.per;
        rd.captions = std::move(r.captions);
        rd.image_files = std::move(r.image_files);
        for (const std::string& f : rd.image_files) rd.image_names.push_back(f.substr(f.rfind('/') + 1));
        const std::string run_dir = out.substr(0, out.rfind('/') + 1);
        std::ifstream curves(run_dir + "curves.svg");
        std::stringstream ss;
        ss << curves.rdbuf();
        rd.curves_svg = ss.str();
        const std::string html = out.substr(0, out.size() - 5) + ".html";  // eval_<split>.json -> .html
        write_file_atomic(html, html_report(rd));
        std::printf("report written to %s\n", html.c_str());
    }
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
