#include "batch.h"

#include <cmath>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace vsd {

// ---------------------------------------------------------------------------------------------
TextFront TextFront::bert(std::shared_ptr<const BertTokenizer> tok) {
    TextFront t;
    t.bert_ = std::move(tok);
    t.mask_id_ = t.bert_->mask_id;
    return t;
}

TextFront TextFront::vocab(std::shared_ptr<Vocab> v) {
    TextFront t;
    t.vocab_ = std::move(v);
    t.mask_id_ = t.vocab_->add_word("<mask>");
    return t;
}

int TextFront::vocab_size() const { return bert_ ? bert_->vocab_size() : vocab_->size(); }

void TextFront::prepare(const std::vector<std::string>& captions) {
    if (bert_) {
        words_.resize(captions.size());
        for (size_t c = 0; c < captions.size(); c++) words_[c] = bert_->encode_words(captions[c]);
    } else {
        tokens_.resize(captions.size());
        for (size_t c = 0; c < captions.size(); c++) tokens_[c] = vocab_->encode(captions[c]);
    }
}

std::vector<int64_t> TextFront::ids(int64_t c, bool train, Rng& rng) const {
    std::vector<int64_t> out;
    const int V = vocab_size();
    if (bert_) {
        ENSURE(c >= 0 && c < (int64_t)words_.size(), "caption %lld was not prepared", (long long)c);
        out.push_back(bert_->cls_id);
        for (const std::vector<int>& pieces : words_[c]) {
            float p = train ? rng.uniform() : 1.0f;
            if (p < 0.2f) {  // paper-notes §1.5: the whole word is masked, randomised or deleted
                p /= 0.2f;
                if (p < 0.5f) for (size_t k = 0; k < pieces.size(); k++) out.push_back(mask_id_);
                else if (p < 0.6f) for (size_t k = 0; k < pieces.size(); k++) out.push_back((int64_t)rng.randint(V));
                // else: deleted
            } else {
                out.insert(out.end(), pieces.begin(), pieces.end());
            }
        }
        out.push_back(bert_->sep_id);
    } else {
        ENSURE(c >= 0 && c < (int64_t)tokens_.size(), "caption %lld was not prepared", (long long)c);
        for (int id : tokens_[c]) {  // paper-notes §1.6: every token, <start> and <end> included
            float p = train ? rng.uniform() : 1.0f;
            if (p < 0.2f) {
                p /= 0.2f;
                if (p < 0.5f) out.push_back(mask_id_);
                else if (p < 0.6f) out.push_back((int64_t)rng.randint(V));
                // else: deleted
            } else {
                out.push_back(id);
            }
        }
        if (out.empty()) out.push_back(Vocab::kStart);  // all deleted (p ~ 0.08^L): keep one token
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
BatchLoader::BatchLoader(const PrecompDataset& data, const TextFront& text, const LoaderOptions& opt)
    : data_(data), text_(text), opt_(opt) {
    ENSURE(opt.batch_size > 0, "batch size must be positive, got %lld", (long long)opt.batch_size);
    start_epoch(0);
}

int64_t BatchLoader::batches_per_epoch() const {
    return opt_.train ? data_.length / opt_.batch_size : (data_.length + opt_.batch_size - 1) / opt_.batch_size;
}

void BatchLoader::start_epoch(int epoch, int64_t skip) {
    if (has_pending_) { pending_.wait(); has_pending_ = false; }
    epoch_ = epoch;
    order_.resize(data_.length);
    std::iota(order_.begin(), order_.end(), 0);
    if (opt_.train) {  // Fisher-Yates from (seed, epoch)
        Rng rng(opt_.seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch + 1);
        for (int64_t i = (int64_t)order_.size() - 1; i > 0; i--) std::swap(order_[i], order_[rng.randint(i + 1)]);
    }
    cursor_ = skip;
}

Batch BatchLoader::make_batch(int64_t b) const {
    const int64_t lo = b * opt_.batch_size, hi = std::min<int64_t>(lo + opt_.batch_size, (int64_t)order_.size());
    const int64_t B = hi - lo;
    const int64_t R = data_.n_regions;
    std::vector<BatchSample> s(B);
    for (int64_t k = 0; k < B; k++) {
        BatchSample& x = s[k];
        x.cap = order_[lo + k];
        // one Rng per (seed, epoch, caption): independent of batch composition and threads
        Rng rng((opt_.seed + 1) * 0xD1B54A32D192ED03ull ^ ((uint64_t)epoch_ << 40) ^ (uint64_t)x.cap);
        for (int64_t r = 0; r < R; r++)
            if (!(opt_.train && opt_.size_augment) || rng.uniform() > 0.2f) x.regions.push_back(r);
        if (x.regions.empty()) x.regions.push_back(0);  // never an empty image (p = 0.2^36)
        x.ids = text_.ids(x.cap, opt_.train && opt_.token_augment, rng);
    }
    // sort by token length, descending (stable), as the reference's collate_fn
    std::stable_sort(s.begin(), s.end(), [](const BatchSample& a, const BatchSample& b) { return a.ids.size() > b.ids.size(); });
    return assemble_batch(data_, s, opt_.check_finite);
}

Batch assemble_batch(const PrecompDataset& data, const std::vector<BatchSample>& s, bool check_finite) {
    const int64_t B = (int64_t)s.size(), F = data.feat_dim;
    int64_t rmax = 0, lmax = 0;
    for (const BatchSample& x : s) {
        rmax = std::max<int64_t>(rmax, x.regions.size());
        lmax = std::max<int64_t>(lmax, x.ids.size());
    }
    Batch out;
    out.size = B;
    out.images = Tensor::zeros({B, rmax, F});
    out.img_lengths = Tensor::empty({B}, DType::I64);
    out.tokens = Tensor::zeros({B, lmax}, DType::I64);
    out.lengths = Tensor::empty({B}, DType::I64);
    const int64_t D1 = data.desc_emb ? data.desc_emb->row_numel() : 0, D2 = data.cap_emb ? data.cap_emb->row_numel() : 0;
    if (data.desc_emb) out.desc_emb = Tensor::empty({B, D1});
    if (data.cap_emb) out.cap_emb = Tensor::empty({B, D2});
    // a NaN or Inf in the inputs is caught here, where it enters, with its place in the file (the
    // whole image is checked, dropped regions too, so the answer does not depend on the draw)
    // width: values per region (images) or 0 (an embedding row)
    auto check = [&](const float* v, int64_t n, int64_t width, const std::string& file, int64_t row) {
        if (!check_finite) return;
        for (int64_t j = 0; j < n; j++) {
            if (std::isfinite(v[j])) continue;
            const std::string at = width ? strfmt("image %lld, region %lld, feature %lld", (long long)row, (long long)(j / width),
                                                  (long long)(j % width))
                                         : strfmt("row %lld, column %lld", (long long)row, (long long)j);
            throw_error(__FILE__, __LINE__, strfmt("%s: %s is %g (not finite)", file.c_str(), at.c_str(), v[j]),
                        "repair or re-create the file (tools/npy_inspect counts NaN/Inf); --check_inputs 0 skips this check");
        }
    };
    for (int64_t k = 0; k < B; k++) {
        const BatchSample& x = s[k];
        const int64_t img_index = data.image_of(x.cap);
        // region rows of this image, straight from the memory-mapped file
        Tensor img = data.ims.rows_tensor(img_index, 1, DType::F32);
        check(img.data(), img.numel(), F, data.ims.path, img_index);
        for (size_t j = 0; j < x.regions.size(); j++)
            std::memcpy(out.images.data() + (k * rmax + (int64_t)j) * F, img.data() + x.regions[j] * F, F * sizeof(float));
        out.img_lengths.i64()[k] = (int64_t)x.regions.size();
        std::copy(x.ids.begin(), x.ids.end(), out.tokens.i64() + k * lmax);
        out.lengths.i64()[k] = (int64_t)x.ids.size();
        if (data.desc_emb) {
            Tensor row = data.desc_emb->rows_tensor(x.cap, 1, DType::F32);
            check(row.data(), D1, 0, data.desc_file, x.cap);
            std::memcpy(out.desc_emb.data() + k * D1, row.data(), D1 * 4);
        }
        if (data.cap_emb) {
            Tensor row = data.cap_emb->rows_tensor(x.cap, 1, DType::F32);
            check(row.data(), D2, 0, data.cap_emb_file, x.cap);
            std::memcpy(out.cap_emb.data() + k * D2, row.data(), D2 * 4);
        }
        out.cap_ids.push_back(x.cap);
        out.img_ids.push_back(img_index);
    }
    return out;
}

bool BatchLoader::next(Batch& out) {
    const int64_t n = batches_per_epoch();
    if (cursor_ >= n) {
        if (has_pending_) { pending_.wait(); has_pending_ = false; }
        return false;
    }
    if (has_pending_) {
        out = pending_.get();
        has_pending_ = false;
    } else {
        out = make_batch(cursor_);
    }
    cursor_++;
    if (opt_.prefetch && cursor_ < n) {  // the next batch is built while the caller computes
        pending_ = std::async(std::launch::async, [this, b = cursor_]() { return make_batch(b); });
        has_pending_ = true;
    }
    return true;
}

}  // namespace vsd
