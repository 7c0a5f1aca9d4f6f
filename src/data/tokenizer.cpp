// tokenizer.cpp — BERT BasicTokenizer + WordPiece, NLTK-style word tokenization, SCAN vocabularies.
// No tokenizer library and no Unicode library: the few Unicode facts we need are tables below.
#include "tokenizer.h"

#include <cstring>
#include <fstream>
#include <unordered_map>

#include "../core/check.h"
#include "json.h"
#include "npy.h"  // write_file_atomic

namespace vsd {

// ============================================================================================
// UTF-8
std::u32string utf8_decode(const std::string& s) {
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = (unsigned char)s[i];
        char32_t cp;
        int n;
        if (c < 0x80) { cp = c; n = 1; }
        else if ((c >> 5) == 0x6) { cp = c & 0x1F; n = 2; }
        else if ((c >> 4) == 0xE) { cp = c & 0x0F; n = 3; }
        else if ((c >> 3) == 0x1E) { cp = c & 0x07; n = 4; }
        else { out += U'\uFFFD'; i++; continue; }
        if (i + n > s.size()) { out += U'\uFFFD'; i++; continue; }
        bool ok = true;
        for (int k = 1; k < n; k++) {
            unsigned char cc = (unsigned char)s[i + k];
            if ((cc >> 6) != 0x2) { ok = false; break; }
            cp = (cp << 6) | (cc & 0x3F);
        }
        // reject overlong forms, surrogates and out-of-range values
        if (!ok || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            out += U'\uFFFD';
            i++;
            continue;
        }
        out += cp;
        i += n;
    }
    return out;
}

std::string utf8_encode(const std::u32string& s) {
    std::string o;
    for (char32_t cp : s) {
        if (cp < 0x80) o += (char)cp;
        else if (cp < 0x800) { o += (char)(0xC0 | (cp >> 6)); o += (char)(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) {
            o += (char)(0xE0 | (cp >> 12)); o += (char)(0x80 | ((cp >> 6) & 0x3F)); o += (char)(0x80 | (cp & 0x3F));
        } else {
            o += (char)(0xF0 | (cp >> 18)); o += (char)(0x80 | ((cp >> 12) & 0x3F));
            o += (char)(0x80 | ((cp >> 6) & 0x3F)); o += (char)(0x80 | (cp & 0x3F));
        }
    }
    return o;
}

bool utf8_valid(const std::string& s, size_t* bad) {
    // a byte sequence is valid iff decoding never produced U+FFFD where the input had none
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = (unsigned char)s[i];
        int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) { if (bad) *bad = i; return false; }
        std::u32string d = utf8_decode(s.substr(i, n));
        if (d.size() != 1 || (d[0] == U'\uFFFD' && s.compare(i, n, "\xEF\xBF\xBD") != 0)) { if (bad) *bad = i; return false; }
        i += n;
    }
    return true;
}

// ============================================================================================
// Unicode facts (the subset BERT's BasicTokenizer and NLTK's rules touch)

static bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

static char32_t lower_cp(char32_t c) {
    if (in(c, 'A', 'Z')) return c + 32;
    if (c < 0xC0) return c;
    if (in(c, 0xC0, 0xDE) && c != 0xD7) return c + 0x20;               // Latin-1 capitals
    if ((in(c, 0x100, 0x137) || in(c, 0x14A, 0x177)) && !(c & 1)) return c + 1;  // Latin Ext-A even = upper
    if ((in(c, 0x139, 0x148) || in(c, 0x179, 0x17E)) && (c & 1)) return c + 1;  // odd = upper here
    if (c == 0x130) return 'i';                                          // İ -> i (i + dot, dot stripped)
    if (c == 0x178) return 0xFF;                                         // Ÿ -> ÿ
    if (in(c, 0x391, 0x3A9) && c != 0x3A2) return c + 0x20;              // Greek
    if (c == 0x386) return 0x3AC;
    if (in(c, 0x388, 0x38A)) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (in(c, 0x410, 0x42F)) return c + 0x20;                            // Cyrillic
    if (in(c, 0x400, 0x40F)) return c + 0x50;
    if (in(c, 0xFF21, 0xFF3A)) return c + 0x20;                          // fullwidth A-Z
    return c;
}

// The base letter of a precomposed character (NFD, then drop the combining marks); 0 when the
// character itself is a combining mark. '-' in the tables = no canonical decomposition.
static const char* kLatin1 =     // U+00C0 .. U+00FF
    "AAAAAA-CEEEEIIII" "-NOOOOO--UUUUY--" "aaaaaa-ceeeeiiii" "-nooooo--uuuuy-y";
static const char* kLatinExtA =  // U+0100 .. U+017F
    "AaAaAaCcCcCcCcDd" "--EeEeEeEeEeGgGg" "GgGgHh--IiIiIiIi" "I---JjKk-LlLlLl-"
    "---NnNnNn---OoOo" "Oo--RrRrRrSsSsSs" "SsTtTt--UuUuUuUu" "UuUuWwYyYZzZzZz-";

static bool is_combining_mark(char32_t c) {
    return in(c, 0x300, 0x36F) || in(c, 0x1AB0, 0x1AFF) || in(c, 0x1DC0, 0x1DFF) || in(c, 0x20D0, 0x20FF) ||
           in(c, 0xFE20, 0xFE2F);
}

static char32_t strip_accent(char32_t c) {
    if (c < 0xC0) return c;
    if (is_combining_mark(c)) return 0;
    if (c <= 0xFF) return kLatin1[c - 0xC0] == '-' ? c : (char32_t)kLatin1[c - 0xC0];
    if (c <= 0x17F) return kLatinExtA[c - 0x100] == '-' ? c : (char32_t)kLatinExtA[c - 0x100];
    if (in(c, 0x1CD, 0x1DC)) {  // Ǎǎ Ǐǐ Ǒǒ Ǔǔ and Ǖ..ǜ (ü with marks)
        static const char* t = "AaIiOoUuUuUuUuUu";
        return (char32_t)t[c - 0x1CD];
    }
    if (in(c, 0x218, 0x21B)) return (char32_t)"SsTt"[c - 0x218];  // Ș ș Ț ț
    switch (c) {  // Greek with tonos / dialytika, Cyrillic й ё ї
        case 0x3AC: return 0x3B1; case 0x3AD: return 0x3B5; case 0x3AE: return 0x3B7; case 0x3AF: return 0x3B9;
        case 0x3CC: return 0x3BF; case 0x3CD: return 0x3C5; case 0x3CE: return 0x3C9; case 0x390: return 0x3B9;
        case 0x3B0: return 0x3C5; case 0x3CA: return 0x3B9; case 0x3CB: return 0x3C5;
        case 0x439: return 0x438; case 0x451: return 0x435; case 0x457: return 0x456;
        case 0x419: return 0x418; case 0x401: return 0x415;
    }
    return c;
}

static bool is_whitespace(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 || in(c, 0x2000, 0x200A) ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_control(char32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;  // BERT counts these as whitespace
    return c < 0x20 || in(c, 0x7F, 0x9F) || c == 0xAD || in(c, 0x600, 0x605) || c == 0x61C || c == 0x6DD ||
           c == 0x70F || c == 0x180E || in(c, 0x200B, 0x200F) || in(c, 0x202A, 0x202E) || in(c, 0x2060, 0x2064) ||
           in(c, 0x2066, 0x206F) || c == 0xFEFF || in(c, 0xFFF9, 0xFFFB);
}

static bool is_punctuation(char32_t c) {
    if (in(c, 33, 47) || in(c, 58, 64) || in(c, 91, 96) || in(c, 123, 126)) return true;  // all ASCII symbols
    if (c < 0xA1) return false;
    static const char32_t ranges[][2] = {
        {0xA1, 0xA1}, {0xA7, 0xA7}, {0xAB, 0xAB}, {0xB6, 0xB7}, {0xBB, 0xBB}, {0xBF, 0xBF}, {0x37E, 0x37E},
        {0x387, 0x387}, {0x55A, 0x55F}, {0x589, 0x58A}, {0x5BE, 0x5BE}, {0x5C0, 0x5C0}, {0x5C3, 0x5C3},
        {0x5C6, 0x5C6}, {0x5F3, 0x5F4}, {0x609, 0x60A}, {0x60C, 0x60D}, {0x61B, 0x61B}, {0x61E, 0x61F},
        {0x66A, 0x66D}, {0x6D4, 0x6D4}, {0x964, 0x965}, {0x970, 0x970}, {0xE4F, 0xE4F}, {0xE5A, 0xE5B},
        {0x2010, 0x2027}, {0x2030, 0x2043}, {0x2045, 0x2051}, {0x2053, 0x205E}, {0x207D, 0x207E},
        {0x208D, 0x208E}, {0x2308, 0x230B}, {0x2329, 0x232A}, {0x2768, 0x2775}, {0x27C5, 0x27C6},
        {0x27E6, 0x27EF}, {0x2983, 0x2998}, {0x29D8, 0x29DB}, {0x29FC, 0x29FD}, {0x2E00, 0x2E2E},
        {0x2E30, 0x2E4F}, {0x3001, 0x3003}, {0x3008, 0x3011}, {0x3014, 0x301F}, {0x3030, 0x3030},
        {0x303D, 0x303D}, {0x30A0, 0x30A0}, {0x30FB, 0x30FB}, {0xFE10, 0xFE19}, {0xFE30, 0xFE52},
        {0xFE54, 0xFE61}, {0xFE63, 0xFE63}, {0xFE68, 0xFE68}, {0xFE6A, 0xFE6B}, {0xFF01, 0xFF03},
        {0xFF05, 0xFF0A}, {0xFF0C, 0xFF0F}, {0xFF1A, 0xFF1B}, {0xFF1F, 0xFF20}, {0xFF3B, 0xFF3D},
        {0xFF3F, 0xFF3F}, {0xFF5B, 0xFF5B}, {0xFF5D, 0xFF5D}, {0xFF5F, 0xFF65}};
    for (auto& r : ranges)
        if (in(c, r[0], r[1])) return true;
    return false;
}

static bool is_cjk(char32_t c) {  // the CJK Unified Ideographs blocks, as BERT defines them
    return in(c, 0x4E00, 0x9FFF) || in(c, 0x3400, 0x4DBF) || in(c, 0x20000, 0x2A6DF) || in(c, 0x2A700, 0x2B73F) ||
           in(c, 0x2B740, 0x2B81F) || in(c, 0x2B820, 0x2CEAF) || in(c, 0xF900, 0xFAFF) || in(c, 0x2F800, 0x2FA1F);
}

std::string to_lower_utf8(const std::string& s) {
    std::u32string u = utf8_decode(s);
    for (char32_t& c : u) c = lower_cp(c);
    return utf8_encode(u);
}

// ============================================================================================
// BERT
BertTokenizer::BertTokenizer(const std::string& path, bool lower_case) {
    std::ifstream f(path);
    ENSURE_HINT(f.good(), "point to a model folder containing vocab.txt", "%s: cannot open the WordPiece vocabulary",
                path.c_str());
    std::string line;
    while (std::getline(f, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        vocab_.push_back(line);
    }
    ENSURE(!vocab_.empty(), "%s: empty vocabulary", path.c_str());
    init(lower_case);
}

BertTokenizer::BertTokenizer(const std::vector<std::string>& vocab, bool lower_case) : vocab_(vocab) { init(lower_case); }

void BertTokenizer::init(bool lower_case) {
    lower_ = lower_case;
    for (size_t i = 0; i < vocab_.size(); i++) ids_.emplace(vocab_[i], (int)i);  // first occurrence wins
    auto need = [&](const char* t) {
        int i = id(t);
        ENSURE(i >= 0, "WordPiece vocabulary lacks the special token %s", t);
        return i;
    };
    pad_id = need("[PAD]");
    unk_id = need("[UNK]");
    cls_id = need("[CLS]");
    sep_id = need("[SEP]");
    mask_id = need("[MASK]");
}

int BertTokenizer::id(const std::string& t) const {
    auto it = ids_.find(t);
    return it == ids_.end() ? -1 : it->second;
}

const std::string& BertTokenizer::token(int i) const {
    ENSURE(i >= 0 && i < (int)vocab_.size(), "token id %d outside the vocabulary (%zu)", i, vocab_.size());
    return vocab_[i];
}

std::vector<std::string> BertTokenizer::basic_tokenize(const std::string& text) const {
    // 1. clean + 2. CJK spacing
    std::u32string t;
    for (char32_t c : utf8_decode(text)) {
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (is_whitespace(c)) t += U' ';
        else if (is_cjk(c)) { t += U' '; t += c; t += U' '; }
        else t += c;
    }
    // 3. whitespace split, lower-case, strip accents; 4. split punctuation
    std::vector<std::string> words;
    std::u32string cur;
    auto flush = [&] {
        if (!cur.empty()) words.push_back(utf8_encode(cur));
        cur.clear();
    };
    size_t i = 0;
    while (i < t.size()) {
        while (i < t.size() && t[i] == U' ') i++;
        size_t j = i;
        while (j < t.size() && t[j] != U' ') j++;
        for (size_t k = i; k < j; k++) {
            char32_t c = t[k];
            if (lower_) {
                c = lower_cp(c);
                c = strip_accent(c);
                if (c == 0) continue;  // a combining mark: dropped
            }
            if (is_punctuation(c)) {
                flush();
                cur += c;
                flush();
            } else {
                cur += c;
            }
        }
        flush();
        i = j;
    }
    return words;
}

std::vector<int> BertTokenizer::wordpiece(const std::string& word) const {
    std::u32string w = utf8_decode(word);
    if (w.size() > 100) return {unk_id};  // max_input_chars_per_word
    std::vector<int> pieces;
    size_t start = 0;
    while (start < w.size()) {
        size_t end = w.size();
        int found = -1;
        while (start < end) {  // longest match first
            std::string sub = utf8_encode(w.substr(start, end - start));
            if (start > 0) sub = "##" + sub;
            found = id(sub);
            if (found >= 0) break;
            end--;
        }
        if (found < 0) return {unk_id};  // the whole word becomes [UNK]
        pieces.push_back(found);
        start = end;
    }
    return pieces;
}

std::vector<std::vector<int>> BertTokenizer::encode_words(const std::string& text) const {
    std::vector<std::vector<int>> out;
    for (const std::string& w : basic_tokenize(text)) out.push_back(wordpiece(w));
    return out;
}

std::vector<int> BertTokenizer::encode(const std::string& text) const {
    std::vector<int> ids = {cls_id};
    for (const auto& w : encode_words(text)) ids.insert(ids.end(), w.begin(), w.end());
    ids.push_back(sep_id);
    return ids;
}

// ============================================================================================
// NLTK word_tokenize, rule by rule. Each pass below is one regular-expression substitution of
// NLTK's NLTKWordTokenizer (its comment shows the pattern), applied left to right with
// non-overlapping matches, exactly as Python's re.sub would.
namespace {
using U = std::u32string;

bool is_word(char32_t c) {  // Python's \w for str: letters, digits, underscore
    return (c < 0x80 && (isalnum((int)c) || c == '_')) || (c >= 0xAA && !is_punctuation(c) && !is_whitespace(c) &&
                                                          !is_control(c) && c != 0xD7 && c != 0xF7 && !in(c, 0x2012, 0x2015));
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// pad every character for which pred holds with spaces: [chars] -> " \g<0> "
template <class P>
U pad_chars(const U& t, P pred) {
    U o;
    for (char32_t c : t) {
        if (pred(c)) { o += U' '; o += c; o += U' '; }
        else o += c;
    }
    return o;
}

// replace every non-overlapping occurrence of `from` with `to`
U replace_all(const U& t, const U& from, const U& to) {
    U o;
    size_t i = 0;
    while (i < t.size()) {
        if (t.compare(i, from.size(), from) == 0) { o += to; i += from.size(); }
        else o += t[i++];
    }
    return o;
}

bool starts_with_at(const U& t, size_t i, const char* s) {
    for (size_t k = 0; s[k]; k++)
        if (i + k >= t.size() || t[i + k] != (char32_t)(unsigned char)s[k]) return false;
    return true;
}

// (?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)  ->  "' "    (opening single quote before a word)
U open_single_quote(const U& t) {
    U o;
    for (size_t i = 0; i < t.size(); i++) {
        o += t[i];
        if (t[i] != U'\'') continue;
        if (i > 0 && is_word(t[i - 1])) continue;
        if (i + 1 >= t.size() || !is_word(t[i + 1])) continue;
        bool clitic = false;
        for (const char* c : {"re", "ve", "ll", "m", "t", "s", "d", "n"}) {
            size_t n = std::strlen(c);
            bool ci = true;  // (?i): compare case-insensitively
            for (size_t k = 0; k < n && ci; k++) ci = i + 1 + k < t.size() && lower_cp(t[i + 1 + k]) == (char32_t)c[k];
            if (ci && (i + 1 + n >= t.size() || !is_word(t[i + 1 + n]))) { clitic = true; break; }
        }
        if (!clitic) o += U' ';
    }
    return o;
}

// ([^\.])(\.)([\]\)}>"'»”’ ]*+)\s*$  ->  "\1 \2 \3 "        (the final period)
U final_period(const U& t) {
    auto closer = [](char32_t c) {
        return c == ']' || c == ')' || c == '}' || c == '>' || c == '"' || c == '\'' || c == 0xBB || c == 0x201D ||
               c == 0x2019 || c == ' ';
    };
    size_t end = t.size();
    while (end > 0 && is_space(t[end - 1]) && t[end - 1] != ' ') end--;  // \s*$ (after the class run)
    size_t j = end;
    while (j > 0 && closer(t[j - 1])) j--;                                // the closer run \3
    if (j < 2 || t[j - 1] != U'.' || t[j - 2] == U'.') return t;         // needs [^.] then '.'
    U o = t.substr(0, j - 1);
    o += U" . ";
    o += t.substr(j, end - j);
    o += U' ';
    return o;
}

// ([:,])([^\d])  ->  " \1 \2"          (the next character is consumed by the match)
U pad_colon_comma(const U& t) {
    U o;
    size_t i = 0;
    while (i < t.size()) {
        if ((t[i] == U':' || t[i] == U',') && i + 1 < t.size() && !is_digit(t[i + 1])) {
            o += U' '; o += t[i]; o += U' '; o += t[i + 1];
            i += 2;
        } else {
            o += t[i++];
        }
    }
    // ([:,])$  ->  " \1 "
    if (!o.empty() && (o.back() == U':' || o.back() == U',')) {
        char32_t c = o.back();
        o.pop_back();
        o += U' '; o += c; o += U' ';
    }
    return o;
}

// \.{2,}  ->  " \g<0> "
U pad_ellipsis(const U& t) {
    U o;
    size_t i = 0;
    while (i < t.size()) {
        size_t j = i;
        while (j < t.size() && t[j] == U'.') j++;
        if (j - i >= 2) { o += U' '; o += t.substr(i, j - i); o += U' '; i = j; }
        else o += t[i++];
    }
    return o;
}

// ([^'])' (space)  ->  "\1 ' "
U pad_closing_single_quote(const U& t) {
    U o;
    size_t i = 0;
    while (i < t.size()) {
        if (i + 2 < t.size() && t[i] != U'\'' && t[i + 1] == U'\'' && t[i + 2] == U' ') {
            o += t[i]; o += U" ' ";
            i += 3;
        } else {
            o += t[i++];
        }
    }
    return o;
}

// ([^' ])(<clitic>)(space)  ->  "\1 \2 "   for the alternatives in order
U split_clitics(const U& t, const std::vector<const char*>& alts) {
    U o;
    size_t i = 0;
    while (i < t.size()) {
        bool done = false;
        if (t[i] != U'\'' && t[i] != U' ') {
            for (const char* a : alts) {
                size_t n = std::strlen(a);
                if (starts_with_at(t, i + 1, a) && i + 1 + n < t.size() && t[i + 1 + n] == U' ') {
                    o += t[i]; o += U' ';
                    for (size_t k = 0; k < n; k++) o += (char32_t)(unsigned char)a[k];
                    o += U' ';
                    i += n + 2;
                    done = true;
                    break;
                }
            }
        }
        if (!done) o += t[i++];
    }
    return o;
}

// (?i)\b(first)(second)\b  ->  " \1 \2 "   (MacIntyre contractions: cannot, gonna, ...)
// lead_space: the pattern starts with a space instead of \b (" 'tis"); need_space_after: (?=\s).
U split_contraction(const U& t, const char* first, const char* second, bool need_space_after, bool lead_space) {
    std::string w = std::string(first) + second;
    U o;
    size_t i = 0;
    while (i < t.size()) {
        const size_t start = i;
        bool match = lead_space ? (i > 0 && t[i - 1] == U' ') : (i == 0 || !is_word(t[i - 1]));
        for (size_t k = 0; match && k < w.size(); k++) match = start + k < t.size() && lower_cp(t[start + k]) == (char32_t)w[k];
        size_t after = start + w.size();
        if (match) match = need_space_after ? (after < t.size() && is_space(t[after])) : (after >= t.size() || !is_word(t[after]));
        if (match) {
            o += U' ';
            o += t.substr(start, std::strlen(first));
            o += U' ';
            o += t.substr(start + std::strlen(first), std::strlen(second));
            o += U' ';
            i = after;
        } else {
            o += t[i++];
        }
    }
    return o;
}

std::vector<std::string> treebank(const std::string& text) {
    U t = utf8_decode(text);
    // STARTING_QUOTES
    t = pad_chars(t, [](char32_t c) { return c == 0xAB || c == 0x201C || c == 0x2018 || c == 0x201E; });  // «“‘„
    {  // runs of backticks: ([`]+) -> " \1 "
        U o;
        size_t i = 0;
        while (i < t.size()) {
            if (t[i] == U'`') {
                size_t j = i;
                while (j < t.size() && t[j] == U'`') j++;
                o += U' '; o += t.substr(i, j - i); o += U' ';
                i = j;
            } else o += t[i++];
        }
        t = o;
    }
    if (!t.empty() && t[0] == U'"') t = U"``" + t.substr(1);  // ^" -> ``
    t = replace_all(t, U"``", U" `` ");
    {  // ([ \(\[{<])("|'') -> "\1 `` "
        U o;
        size_t i = 0;
        while (i < t.size()) {
            char32_t c = t[i];
            bool opener = c == ' ' || c == '(' || c == '[' || c == '{' || c == '<';
            if (opener && i + 1 < t.size() && t[i + 1] == U'"') { o += c; o += U" `` "; i += 2; }
            else if (opener && i + 2 < t.size() && t[i + 1] == U'\'' && t[i + 2] == U'\'') { o += c; o += U" `` "; i += 3; }
            else o += t[i++];
        }
        t = o;
    }
    t = open_single_quote(t);
    // PUNCTUATION
    t = final_period(t);
    t = pad_colon_comma(t);
    t = pad_ellipsis(t);
    t = pad_chars(t, [](char32_t c) { return c == ';' || c == '@' || c == '#' || c == '$' || c == '%' || c == '&'; });
    t = pad_chars(t, [](char32_t c) { return in(c, 0x2012, 0x2015); });  // figure/en/em dashes
    // (the second final-period rule is a no-op after the first one)
    t = pad_chars(t, [](char32_t c) { return c == '?' || c == '!'; });
    t = pad_closing_single_quote(t);
    t = pad_chars(t, [](char32_t c) { return c == '*'; });
    // PARENS_BRACKETS, DOUBLE_DASHES
    t = pad_chars(t, [](char32_t c) { return c == '[' || c == ']' || c == '(' || c == ')' || c == '{' || c == '}' || c == '<' || c == '>'; });
    t = replace_all(t, U"--", U" -- ");
    t = U" " + t + U" ";
    // ENDING_QUOTES
    t = pad_chars(t, [](char32_t c) { return c == 0xBB || c == 0x201D || c == 0x2019; });  // »”’
    t = replace_all(t, U"''", U" '' ");
    t = replace_all(t, U"\"", U" '' ");
    {  // \s+ -> " "
        U o;
        for (char32_t c : t) {
            if (is_space(c)) { if (o.empty() || o.back() != U' ') o += U' '; }
            else o += c;
        }
        t = o;
    }
    t = split_clitics(t, {"'s", "'S", "'m", "'M", "'d", "'D", "'"});
    t = split_clitics(t, {"'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"});
    // CONTRACTIONS2 / CONTRACTIONS3
    t = split_contraction(t, "can", "not", false, false);
    t = split_contraction(t, "d", "'ye", false, false);
    t = split_contraction(t, "gim", "me", false, false);
    t = split_contraction(t, "gon", "na", false, false);
    t = split_contraction(t, "got", "ta", false, false);
    t = split_contraction(t, "lem", "me", false, false);
    t = split_contraction(t, "more", "'n", false, false);
    t = split_contraction(t, "wan", "na", true, false);
    t = split_contraction(t, "'t", "is", false, true);
    t = split_contraction(t, "'t", "was", false, true);
    // split
    std::vector<std::string> out;
    size_t i = 0;
    while (i < t.size()) {
        while (i < t.size() && is_space(t[i])) i++;
        size_t j = i;
        while (j < t.size() && !is_space(t[j])) j++;
        if (j > i) out.push_back(utf8_encode(t.substr(i, j - i)));
        i = j;
    }
    return out;
}
}  // namespace

// Sentence split (our stand-in for NLTK's punkt model, which word_tokenize runs first): a
// sentence ends at '.', '?' or '!' followed by whitespace, unless the word ending in '.' is a
// single letter ("u.s.", "a.") or a common abbreviation. Captions are nearly always one sentence.
static std::vector<std::string> split_sentences(const std::string& text) {
    static const char* abbrev[] = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "no", "mt", "ft", "prof"};
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i + 1 < text.size(); i++) {
        char c = text[i];
        if ((c != '.' && c != '?' && c != '!') || !isspace((unsigned char)text[i + 1])) continue;
        if (c == '.') {
            size_t w = i;
            while (w > start && !isspace((unsigned char)text[w - 1])) w--;
            std::string word = text.substr(w, i - w);
            std::string bare;
            for (char ch : word) if (ch != '.') bare += ch;
            bool abbr = bare.size() <= 1 || word.find('.') != std::string::npos;
            for (const char* a : abbrev) abbr = abbr || bare == a;
            if (abbr) continue;
        }
        size_t k = i + 1;
        while (k < text.size() && isspace((unsigned char)text[k])) k++;
        if (k >= text.size()) break;
        out.push_back(text.substr(start, i + 1 - start));
        start = k;
    }
    out.push_back(text.substr(start));
    return out;
}

std::vector<std::string> word_tokenize(const std::string& text) {
    std::vector<std::string> out;
    for (const std::string& s : split_sentences(text)) {
        std::vector<std::string> t = treebank(s);
        out.insert(out.end(), t.begin(), t.end());
    }
    return out;
}

// ============================================================================================
// SCAN vocabulary
Vocab Vocab::load_json(const std::string& path) {
    Json j = Json::parse_file(path);
    Vocab v;
    const Json& w2i = j["word2idx"];
    const Json& i2w = j["idx2word"];
    const int64_t n = j["idx"].as_int("idx");
    ENSURE_HINT(n > 3 && (int64_t)i2w.size() == n && (int64_t)w2i.size() == n,
                "use a SCAN vocabulary file ({f30k,coco}_precomp_vocab.json) or rebuild it with tools/build_vocab (`make vocab DATASET=...`)",
                "%s: inconsistent vocabulary: idx = %lld, idx2word has %zu entries, word2idx has %zu", path.c_str(),
                (long long)n, i2w.size(), w2i.size());
    v.idx2word_.resize(n);
    for (const auto& kv : i2w.members()) {
        char* endp = nullptr;
        long long id = std::strtoll(kv.first.c_str(), &endp, 10);
        ENSURE(*endp == 0 && id >= 0 && id < n, "%s: idx2word key \"%s\" is not an id in [0, %lld)", path.c_str(),
               kv.first.c_str(), (long long)n);
        v.idx2word_[id] = kv.second.as_string("idx2word value");
    }
    for (const auto& kv : w2i.members()) {
        int64_t id = kv.second.as_int("word2idx value");
        ENSURE(id >= 0 && id < n && v.idx2word_[id] == kv.first, "%s: word2idx[\"%s\"] = %lld disagrees with idx2word",
               path.c_str(), kv.first.c_str(), (long long)id);
        v.word2idx_[kv.first] = (int)id;
    }
    ENSURE(v.idx2word_[kPad] == "<pad>" && v.idx2word_[kStart] == "<start>" && v.idx2word_[kEnd] == "<end>" &&
               v.idx2word_[kUnk] == "<unk>",
           "%s: ids 0..3 must be <pad> <start> <end> <unk>, found %s %s %s %s", path.c_str(), v.idx2word_[0].c_str(),
           v.idx2word_[1].c_str(), v.idx2word_[2].c_str(), v.idx2word_[3].c_str());
    return v;
}

Vocab Vocab::build(const std::vector<std::string>& captions, int threshold) {
    std::unordered_map<std::string, int> count;
    std::vector<std::string> order;  // first-seen order
    for (const std::string& c : captions)
        for (const std::string& w : word_tokenize(to_lower_utf8(c))) {
            auto it = count.find(w);
            if (it == count.end()) { count.emplace(w, 1); order.push_back(w); }
            else it->second++;
        }
    Vocab v;
    for (const char* s : {"<pad>", "<start>", "<end>", "<unk>"}) v.add_word(s);
    for (const std::string& w : order)
        if (count[w] >= threshold) v.add_word(w);
    return v;
}

void Vocab::save_json(const std::string& path) const {
    std::string s = "{\"idx2word\": {";
    for (size_t i = 0; i < idx2word_.size(); i++)
        s += (i ? ", " : "") + json_quote(std::to_string(i)) + ": " + json_quote(idx2word_[i]);
    s += "}, \"word2idx\": {";
    for (size_t i = 0; i < idx2word_.size(); i++) s += (i ? ", " : "") + json_quote(idx2word_[i]) + ": " + std::to_string(i);
    s += "}, \"idx\": " + std::to_string(idx2word_.size()) + "}";
    write_file_atomic(path, s);
}

int Vocab::id(const std::string& w) const {
    auto it = word2idx_.find(w);
    return it == word2idx_.end() ? kUnk : it->second;
}

const std::string& Vocab::word(int i) const {
    ENSURE(i >= 0 && i < size(), "word id %d outside the vocabulary (%d words)", i, size());
    return idx2word_[i];
}

int Vocab::add_word(const std::string& w) {
    auto it = word2idx_.find(w);
    if (it != word2idx_.end()) return it->second;
    idx2word_.push_back(w);
    word2idx_[w] = size() - 1;
    return size() - 1;
}

std::vector<int> Vocab::encode(const std::string& caption) const {
    std::vector<int> ids = {kStart};
    for (const std::string& w : word_tokenize(to_lower_utf8(caption))) ids.push_back(id(w));
    ids.push_back(kEnd);
    return ids;
}

}  // namespace vsd
