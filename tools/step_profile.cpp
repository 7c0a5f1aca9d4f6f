// step_profile — what one training step asks of the device, counted without needing a GPU.
//
//   build/<cfg>/step_profile --text bigru|bert [--model gpo|hrem] [--vsd none|cpm] [--device emulator|cuda]
//                            [--steps 6] [--batch_size 128] [--caption_length 0] [--count_only 1] [--by_kernel 0]
//
// It trains on a demo dataset generated at Flickr30K's sizes (36 regions x 2048 features, 1024-d
// VSD embeddings; BERT-base's shape with random weights for --text bert) through the real
// trainer, and after every step reads the device counters: kernel launches and cuBLAS calls
// (kernels/launch.h), host<->device copies (synchronous h2d and d2h; "queued": uploads through
// the page-locked staging ring, on which the host does not wait), memsets and device allocations
// (the memory pool).
// In the emulator, --count_only 1 (the default) counts launches without running them, so a
// BERT-base step is counted in seconds; the numbers are then those of the code path, not of the
// arithmetic (which the emulator's tests check). The ms column is each step's wall time (it ends
// with the step's read-back, so on a GPU it is the device's time, with the data loading). The first step is left out of the averages (it
// fills the pool). The last line is
//   launches/step N, sync_copies/step N, mallocs/100 steps N, cached/peak X.XX
// where launches are kernels + cuBLAS calls + memsets + device copies (each is a launch on the
// GPU's stream), sync copies
// are host->device plus device->host copies, and cached/peak is what the pool holds (in use +
// cached) over the peak in use. --by_kernel 1 first lists what a step launches, per op and kernel name
// ("linear/cublas_sgemm": the forward op, or the backward closure of that op, that asked for it),
// with the memsets and copies (in parentheses), most frequent first.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "../kernels/backend.h"
#include "../kernels/memory_pool.h"
#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/data/npy.h"
#include "../src/train/demo.h"
#include "../src/train/trainer.h"

using namespace vsd;

namespace {

struct Sample {
    uint64_t launches, blas;
    int64_t h2d, h2d_async, d2h, d2d, memsets, mallocs;
    int64_t caption_length;
    double at;  // seconds since the start, when the step ended (after its read-back: on a GPU the device's time too)
};

// the memory pool of the device that trains: the emulator's, or the GPU's
PoolStats pool_of(const std::string& device) {
#ifdef USE_CUDA
    if (device == "cuda") return cuda::pool_stats();
#endif
    return sim::pool_stats();
}

Sample read_counters(const std::string& device, int64_t len, std::chrono::steady_clock::time_point t0) {
    const DeviceCounters& c = device_counters();
    const PoolStats p = pool_of(device);
    return {c.launches, c.blas, p.h2d, p.h2d_async, p.d2h, p.d2d, p.memsets, p.mallocs, len,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// a bert-base-shaped config over the demo's word-level vocabulary (random weights: no file)
std::string write_bert_base(const std::string& dir, const std::string& vocab_from) {
    make_dirs(dir);
    std::ifstream in(vocab_from);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string vocab = ss.str();
    int64_t n = 0;
    for (char ch : vocab) n += ch == '\n';
    write_file_atomic(dir + "/vocab.txt", vocab);
    write_file_atomic(dir + "/config.json",
                      strfmt("{\"hidden_size\": 768, \"num_hidden_layers\": 12, \"num_attention_heads\": 12, "
                             "\"intermediate_size\": 3072, \"vocab_size\": %lld, \"max_position_embeddings\": 512, "
                             "\"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\", "
                             "\"initializer_range\": 0.02, \"hidden_dropout_prob\": 0.1, \"pad_token_id\": 0}",
                             (long long)n));
    return dir;
}

}  // namespace

static int body(int argc, char** argv) {
    std::string text = "bigru", model = "gpo", vsd = "none", device = "emulator", precision = "fp32", data;
    int64_t steps = 6, batch = 128, caption_length = 0;
    bool count_only = true, by_kernel = false;
    Flags f("step_profile", "count the device work of training steps at Flickr30K's sizes (no GPU needed)");
    f.add("text", &text, "text encoder: bigru or bert (BERT-base's shape, random weights)");
    f.add("model", &model, "gpo or hrem");
    f.add("vsd", &vsd, "none or cpm (the fusion and the prototype loss)");
    f.add("device", &device, "emulator (any machine) or cuda (a GPU)");
    f.add("precision", &precision, "the GEMMs: fp32, tf32 or bf16 (bf16 adds one conversion launch per GEMM)");
    f.add("steps", &steps, "training steps to count (the first is left out of the averages)");
    f.add("batch_size", &batch, "batch size");
    f.add("caption_length", &caption_length, "pad the demo's captions (19-21 tokens) to at least this many tokens, e.g. 32 (0: as generated)");
    f.add("count_only", &count_only, "emulator: count launches without running them (fast)");
    f.add("by_kernel", &by_kernel, "also list the launches of a step per op and kernel name");
    f.add("data", &data, "where to generate the Flickr30K-sized demo (default: a folder in /tmp)");
    if (!f.parse(argc, argv)) return 0;
    ENSURE_HINT(steps >= 2, "see --help", "--steps must be at least 2 (the first fills the pool), got %lld", (long long)steps);
    ENSURE_HINT(device == "emulator" || device == "cuda", "see --help", "--device must be emulator or cuda, got '%s'",
                device.c_str());
    // 1. the data: enough images for the steps at this batch size, at F30K's feature sizes
    if (data.empty())
        data = strfmt("/tmp/vsd_step_profile_%lld%s", (long long)batch,
                      caption_length ? strfmt("_L%lld", (long long)caption_length).c_str() : "");
    DemoOptions d;
    d.data_path = data;
    d.n_train = (int)((steps + 2) * batch / 5 + 1);
    d.n_dev = 10;
    d.n_test = 10;
    d.pictures = false;
    d.caption_words = caption_length > 2 ? (int)caption_length - 2 : 0;  // + <start> and <end>
    d.verbose = false;
    struct stat st;
    const bool have = stat((data + "/demo/.complete").c_str(), &st) == 0 &&
                      npy_open(data + "/demo/precomp/train_ims.npy").shape[0] >= d.n_train;
    if (!have) {
        std::printf("generating a demo at Flickr30K's sizes (%d images, 36 x 2048 regions) in %s ...\n", d.n_train,
                    data.c_str());
        make_demo_dataset(d);
    }
    // 2. the run, counted step by step
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.model = model;
    c.vsd = vsd;
    c.text_encoder = text;
    if (text == "bert") c.bert_path = write_bert_base(data + "/bert_base", data + "/demo/bert/vocab.txt");
    c.batch_size = batch;
    c.num_epochs = 1;
    c.max_steps = steps;
    c.validate = false;
    c.progress = false;
    c.tensorboard = false;
    c.device = device;
    c.precision = precision;
    c.logger_name = data + "/run";
    if (device == "emulator" && count_only) emulator_count_only(true);
    std::vector<Sample> s;  // the counters after every step
    // per-name counts (--by_kernel): a plain function pointer, so the map is a static
    static std::map<std::string, uint64_t> names;
    names.clear();
    std::map<std::string, uint64_t> at_last_step;  // what follows the last step (the checkpoint) is not a step
    if (by_kernel) device_counters().by_name = [](const char* k) { names[std::string(current_op()) + "/" + k]++; };
    const auto t0 = std::chrono::steady_clock::now();
    set_step_observer([&](int64_t, int64_t len) {
        s.push_back(read_counters(device, len, t0));
        if (s.size() == 1) names.clear();  // the set-up step is left out here too
        at_last_step = names;
    });
    const Sample start = read_counters(device, 0, t0);
    train(c);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    set_step_observer(nullptr);
    device_counters().by_name = nullptr;
    emulator_count_only(false);
    ENSURE((int64_t)s.size() >= 2, "step_profile: only %zu steps ran", s.size());
    if (by_kernel) {
        std::vector<std::pair<uint64_t, std::string>> rows;
        for (const auto& [k, v] : at_last_step) rows.push_back({v, k});
        std::sort(rows.rbegin(), rows.rend());
        std::printf("\nper step (mean of steps 2..%zu), by op/kernel:\n", s.size());
        for (const auto& [v, k] : rows) std::printf("%10.1f  %s\n", (double)v / (double)(s.size() - 1), k.c_str());
    }
    // 3. the table: one row per step (the first one's deltas are from the start of training)
    std::printf("\n%s+%s%s, B=%lld, device %s%s, %zu steps in %.1f s\n", model.c_str(), text.c_str(),
                vsd == "none" ? "" : ("+VSD " + vsd).c_str(), (long long)batch, device.c_str(),
                device == "emulator" && count_only ? " (count only)" : "", s.size(), secs);
    std::printf("%5s %6s %9s %6s %6s %7s %6s %6s %8s %8s %9s\n", "step", "L", "kernels", "cuBLAS", "h2d", "queued", "d2h", "d2d",
                "memsets", "mallocs", "ms");
    double sum_launch = 0, sum_sync = 0, sum_malloc = 0, sum_ms = 0;
    for (size_t k = 0; k < s.size(); k++) {
        const Sample& a = k ? s[k - 1] : start;
        const Sample& b = s[k];
        const int64_t launches = (int64_t)(b.launches - a.launches), sync = (b.h2d - a.h2d) + (b.d2h - a.d2h);
        std::printf("%5zu %6lld %9lld %6lld %6lld %7lld %6lld %6lld %8lld %8lld %9.1f%s\n", k + 1, (long long)b.caption_length,
                    (long long)launches, (long long)(b.blas - a.blas), (long long)(b.h2d - a.h2d),
                    (long long)(b.h2d_async - a.h2d_async), (long long)(b.d2h - a.d2h),
                    (long long)(b.d2d - a.d2d), (long long)(b.memsets - a.memsets), (long long)(b.mallocs - a.mallocs),
                    1e3 * (b.at - a.at), k ? "" : "   (with the set-up: left out)");
        if (k) sum_ms += 1e3 * (b.at - a.at);
        // a cuBLAS call, a memset and a device-to-device copy are launches on the stream too
        const double all = (double)launches + (double)(b.blas - a.blas) + (double)(b.memsets - a.memsets) +
                           (double)(b.d2d - a.d2d);
        if (k) sum_launch += all, sum_sync += (double)sync, sum_malloc += (double)(b.mallocs - a.mallocs);
    }
    const double n = (double)(s.size() - 1);
    const PoolStats p = pool_of(device);
    const double ratio = p.peak_bytes ? (double)(p.in_use_bytes + p.cached_bytes) / (double)p.peak_bytes : 0.0;
    std::printf("pool: %.1f MiB in use, %.1f MiB cached, peak %.1f MiB\n", p.in_use_bytes / 1048576.0,
                p.cached_bytes / 1048576.0, p.peak_bytes / 1048576.0);
    if (device == "cuda" || !count_only) std::printf("time: %.1f ms a step (the wall clock from step end to step end, data included)\n", sum_ms / n);
    std::printf("launches/step %.0f, sync_copies/step %.0f, mallocs/100 steps %.0f, cached/peak %.2f\n", sum_launch / n,
                sum_sync / n, 100.0 * sum_malloc / n, ratio);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
