// tokenizer.h — the two text front ends of the reference, written from their definitions.
//
// BertTokenizer: bert-base-uncased's BasicTokenizer + WordPiece (Devlin et al. 2019):
//   1. clean: drop NUL, U+FFFD and control characters; every whitespace character becomes ' '
//   2. put spaces around CJK ideographs (each becomes its own word)
//   3. split on whitespace; lower-case each word; strip accents (Unicode NFD, then drop the
//      combining marks; our table covers Latin-1 and Latin Extended-A/B, Greek and Cyrillic cases)
//   4. split punctuation (ASCII symbols and Unicode P* characters) into single-character words
//   5. WordPiece each word: greedy longest match from the left, continuation pieces prefixed "##";
//      a word longer than 100 characters, or one that cannot be covered, becomes [UNK]
//   encode() wraps the ids in [CLS] ... [SEP].
//
// SCAN / BiGRU: nltk.word_tokenize(caption.lower()) reimplemented (NLTK's improved Treebank rules,
// applied pass by pass; see tokenizer.cpp), then <start> ... <end> over a SCAN vocabulary
// {idx2word, word2idx, idx}. Vocab::build reproduces vocab.py: count >= 4, ids 0..3 =
// <pad> <start> <end> <unk>, then words in first-seen order.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace vsd {

// UTF-8 helpers (invalid bytes decode to U+FFFD)
std::u32string utf8_decode(const std::string& s);
std::string utf8_encode(const std::u32string& s);
bool utf8_valid(const std::string& s, size_t* bad_offset = nullptr);

class BertTokenizer {
public:
    explicit BertTokenizer(const std::string& vocab_txt_path, bool lower_case = true);
    BertTokenizer(const std::vector<std::string>& vocab, bool lower_case = true);  // in-memory vocab

    // BasicTokenizer: the words of a text (steps 1-4 above)
    std::vector<std::string> basic_tokenize(const std::string& text) const;
    // WordPiece ids of one basic word (a single [UNK] when it cannot be covered)
    std::vector<int> wordpiece(const std::string& word) const;
    // per-word WordPiece ids (the unit of the BERT masking augmentation, paper-notes §1.5)
    std::vector<std::vector<int>> encode_words(const std::string& text) const;
    // [CLS] + all pieces + [SEP]
    std::vector<int> encode(const std::string& text) const;

    int id(const std::string& token) const;  // -1 when absent
    const std::string& token(int id) const;
    int vocab_size() const { return (int)vocab_.size(); }
    int pad_id = 0, unk_id = 100, cls_id = 101, sep_id = 102, mask_id = 103;

private:
    void init(bool lower_case);
    std::vector<std::string> vocab_;
    std::unordered_map<std::string, int> ids_;
    bool lower_ = true;
};

// nltk.word_tokenize of an (already lower-cased) sentence or caption.
std::vector<std::string> word_tokenize(const std::string& text);

class Vocab {
public:
    static Vocab load_json(const std::string& path);              // SCAN vocab JSON
    static Vocab build(const std::vector<std::string>& captions, int threshold = 4);
    void save_json(const std::string& path) const;                // atomic

    int id(const std::string& word) const;  // <unk> (3) when unknown
    const std::string& word(int id) const;
    int size() const { return (int)idx2word_.size(); }
    int add_word(const std::string& w);     // returns its id (existing or new), e.g. "<mask>"
    // <start> + word_tokenize(lower(caption)) + <end>
    std::vector<int> encode(const std::string& caption) const;

    static constexpr int kPad = 0, kStart = 1, kEnd = 2, kUnk = 3;

private:
    std::vector<std::string> idx2word_;
    std::unordered_map<std::string, int> word2idx_;
};

// ASCII + Latin/Greek/Cyrillic lower-casing of a UTF-8 string (what SCAN's caption.lower() needs).
std::string to_lower_utf8(const std::string& s);

}  // namespace vsd
