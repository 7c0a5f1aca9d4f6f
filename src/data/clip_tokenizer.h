// clip_tokenizer.h — CLIP's byte-level BPE tokenizer (Radford et al. 2021), as OpenCLIP runs it.
//
//   1. clean: ftfy.fix_text (our subset: curly quotes straightened, ligatures and full-width
//      forms to ASCII), HTML entities unescaped twice, runs of white space to one space, trimmed,
//      lower-cased (str.lower())
//   2. split into pieces with  's|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+  (the first
//      alternative that matches at each position; white space between pieces is dropped)
//   3. each piece's UTF-8 bytes become printable code points (GPT-2's byte-to-unicode table), the
//      last one marked "</w>" (end of word); then the BPE merges are applied, lowest rank first,
//      until no adjacent pair has a rank
//   4. ids: 256 byte symbols, the same 256 with "</w>", one per merge in rank order, then
//      <start_of_text> (49406) and <end_of_text> (49407)
//   encode() gives [SOT] + ids + [EOT], cut at the context length (77) with EOT kept last, padded with 0.
//
// The merges come from OpenCLIP's bpe_simple_vocab_16e6.txt.gz (tools/fetch_clip_bpe.sh; its first
// 48,894) or from a model folder's merges.txt (a "#version" header line, then every merge it lists:
// Hugging Face's CLIP folder, the seed's CLIP/, has the same 48,894; the demo's CLIP folder fewer).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace vsd {

class ClipTokenizer {
public:
    // `path`: a .txt.gz or .txt merges file, or a folder holding merges.txt (or bpe_simple_vocab_16e6.txt.gz)
    explicit ClipTokenizer(const std::string& path);
    // from the merge lines themselves ("a b" each); `name` for error messages
    ClipTokenizer(const std::vector<std::string>& merges, const std::string& name);

    std::string clean(const std::string& text) const;            // step 1
    std::vector<std::string> pieces(const std::string& cleaned) const;  // step 2
    std::vector<int> bpe_ids(const std::string& text) const;     // steps 1-4, no SOT/EOT
    // [SOT] ids [EOT], at most `context` ids (EOT last when cut), padded with 0 to `context`
    std::vector<int> encode(const std::string& text, int context = 77) const;
    int vocab_size() const { return (int)vocab_.size(); }
    const std::string& token(int id) const { return vocab_.at(id); }
    int sot_id = 0, eot_id = 0;

private:
    void init(const std::vector<std::string>& merges, const std::string& name);
    std::vector<std::string> bpe(const std::string& piece) const;
    std::vector<std::string> vocab_;
    std::unordered_map<std::string, int> ids_;
    std::unordered_map<std::string, int> ranks_;  // "first second" -> rank
    std::u32string byte_symbol_;                  // byte -> its printable code point
};

// Learn `n` BPE merges from a corpus (the demo's CLIP folder): the texts are cleaned and split as
// the tokenizer does, each piece's bytes become symbols ("</w>" on the last), then repeatedly the
// most frequent adjacent pair (ties: the pair seen first) is merged everywhere, until n merges or no
// pair occurs twice. Returns the merge lines, "a b", in rank order.
std::vector<std::string> learn_bpe(const std::vector<std::string>& texts, int n);

// Unicode classes of Python 3.11's unicodedata (src/data/unicode_tables.inc)
bool unicode_letter(char32_t c);
bool unicode_number(char32_t c);
bool unicode_space(char32_t c);
char32_t unicode_lower(char32_t c);

}  // namespace vsd
