// embed — sentence embeddings of a text file with a BERT-family model folder (config.json,
// vocab.txt, model.safetensors): mean pooling over the real tokens (or [CLS]), L2-normalised,
// written as a float32 .npy [N, D]. This is how VSD's *_bge.npy files are made from captions and
// MLLM descriptions, without Python (paper-notes §1.2: bge-large-en-v1.5, mean pooling, normalised).
//   embed --model data/models/bge-large-en-v1.5 --input test_caps.txt --output test_cap_bge.npy
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/core/progress.h"
#include "../src/data/dataset.h"
#include "../src/data/npy.h"
#include "../src/data/tokenizer.h"
#include "../src/data/torch_load.h"
#include "../kernels/backend.h"
#include "../src/nn/bert.h"

using namespace vsd;

static int body(int argc, char** argv) {
    std::string model_dir, input, output;
    int64_t batch = 64, max_length = 512;
    bool cls = false;
    std::string device = "cpu";
    Flags f("embed", "sentence embeddings of a text file (one sentence per line) with a BERT-family model");
    f.add("model", &model_dir, "model folder with config.json, vocab.txt and model.safetensors");
    f.add("input", &input, "text file, one sentence per line (UTF-8)");
    f.add("output", &output, "output .npy, float32 [lines, hidden]");
    f.add("batch_size", &batch, "sentences per forward pass");
    f.add("max_length", &max_length, "truncate to this many tokens, [CLS] and [SEP] included");
    f.add("cls", &cls, "pool with the [CLS] vector instead of the mean");
    f.add("device", &device, "cpu, cuda (the GPU; fused attention), or emulator (the same kernels in the CUDA emulator: slow)");
    int cudnn = 0, tf32 = 0;
    std::string precision = "fp32";
    f.add("tf32", &tf32, "1: on the device, GEMMs may run on TF32 tensor cores (faster, ~1e-3 relative error; = --precision tf32)");
    f.add("precision", &precision, "the device's GEMMs: fp32, tf32 or bf16 (inputs rounded to bfloat16, FP32 sums)");
    f.add("cudnn", &cudnn, "1: the attention runs in cuDNN (needs --device cuda on a GPU); 0: our fused kernel");
    if (!f.parse(argc, argv)) return 0;
    ENSURE_HINT(!model_dir.empty() && !input.empty() && !output.empty(), "see --help", "embed needs --model, --input and --output");
    ENSURE_HINT(batch >= 1 && batch <= 1 << 16, "see --help", "--batch_size must be in [1, 65536], got %lld", (long long)batch);
    ENSURE_HINT(max_length >= 2, "see --help", "--max_length must be at least 2 ([CLS] and [SEP]), got %lld", (long long)max_length);
    BertTokenizer tok(model_dir + "/vocab.txt");
    std::unique_ptr<Bert> model = load_bert_folder(model_dir);
    Bert& bert = *model;
    bert.to(select_device(device, cudnn, tf32, precision));
    std::vector<std::string> lines = read_captions(input);
    const int64_t N = (int64_t)lines.size(), H = bert.cfg.hidden;
    std::vector<std::vector<int>> ids(N);
    for (int64_t i = 0; i < N; i++) {
        ids[i] = tok.encode(lines[i]);
        if ((int64_t)ids[i].size() > max_length) {  // keep [CLS] ... and end with [SEP]
            ids[i].resize(max_length);
            ids[i].back() = tok.sep_id;
        }
    }
    // batches of similar length (less padding); results go back to the input order
    std::vector<int64_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ids[a].size() > ids[b].size(); });
    std::vector<float> out(N * H);
    NoGrad ng;
    const int64_t nb = (N + batch - 1) / batch;
    Progress prog("embed", nb);
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < nb; k++) {
        const int64_t lo = k * batch, hi = std::min(N, lo + batch), B = hi - lo;
        const int64_t L = (int64_t)ids[order[lo]].size();
        Tensor t = Tensor::zeros({B, L}, DType::I64), len = Tensor::empty({B}, DType::I64);
        for (int64_t b = 0; b < B; b++) {
            const auto& s = ids[order[lo + b]];
            std::copy(s.begin(), s.end(), t.i64() + b * L);
            len.i64()[b] = (int64_t)s.size();
        }
        Tensor e = sentence_embedding(bert.forward(t, len), len, cls).to(Device::CPU);
        for (int64_t b = 0; b < B; b++) std::copy(e.data() + b * H, e.data() + (b + 1) * H, out.begin() + order[lo + b] * H);
        prog.update(k + 1);
    }
    prog.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    npy_save_raw(output, "<f4", {N, H}, out.data(), out.size() * 4);
    std::printf("embedded %lld sentences in %.1f s (%.3g sentences/s) -> %s [%lld, %lld]\n", (long long)N, secs, N / secs,
                output.c_str(), (long long)N, (long long)H);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
