// clip_tokenizer.cpp — CLIP's byte-level BPE (clip_tokenizer.h).
#include "clip_tokenizer.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "../core/check.h"
#include "npy.h"
#include "png.h"
#include "tokenizer.h"

namespace vsd {

namespace {
#include "unicode_tables.inc"

template <size_t N>
bool in_ranges(const char32_t (&r)[N][2], char32_t c) {
    size_t lo = 0, hi = N;  // binary search for the last range starting at or before c
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (r[mid][0] <= c) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && c <= r[lo - 1][1];
}

bool is_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The HTML entities Python's html.unescape knows that captions use; numeric ones all.
const std::pair<const char*, char32_t> kEntities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
    {"copy", 0xA9}, {"reg", 0xAE}, {"deg", 0xB0}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"eacute", 0xE9}, {"egrave", 0xE8},
    {"aacute", 0xE1}, {"agrave", 0xE0}, {"ntilde", 0xF1}, {"ouml", 0xF6}, {"uuml", 0xFC}, {"auml", 0xE4},
    {"ccedil", 0xE7}, {"times", 0xD7}, {"frac12", 0xBD}};

std::u32string html_unescape(const std::u32string& t) {
    std::u32string out;
    for (size_t i = 0; i < t.size(); i++) {
        if (t[i] != '&') { out += t[i]; continue; }
        const size_t semi = t.find(';', i);
        if (semi == std::u32string::npos || semi - i > 12) { out += t[i]; continue; }
        const std::string name = utf8_encode(t.substr(i + 1, semi - i - 1));
        bool done = false;
        if (name.size() >= 2 && name[0] == '#') {  // &#NNN; or &#xHH;
            const bool hex = name[1] == 'x' || name[1] == 'X';
            const std::string digits = name.substr(hex ? 2 : 1);
            if (!digits.empty() && digits.size() <= 7 &&
                digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") == std::string::npos) {
                unsigned long v = std::stoul(digits, nullptr, hex ? 16 : 10);
                if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
                out += (char32_t)v;
                done = true;
            }
        } else {
            for (const auto& e : kEntities)
                if (name == e.first) { out += e.second; done = true; break; }
        }
        if (done) i = semi;
        else out += t[i];
    }
    return out;
}

}  // namespace

bool unicode_letter(char32_t c) { return in_ranges(kUnicodeLetters, c); }
bool unicode_number(char32_t c) { return in_ranges(kUnicodeNumbers, c); }
bool unicode_space(char32_t c) { return in_ranges(kUnicodeSpaces, c); }
char32_t unicode_lower(char32_t c) {
    size_t lo = 0, hi = sizeof kUnicodeLower / sizeof kUnicodeLower[0];
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (kUnicodeLower[mid][0] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < sizeof kUnicodeLower / sizeof kUnicodeLower[0] && kUnicodeLower[lo][0] == c ? kUnicodeLower[lo][1] : c;
}

ClipTokenizer::ClipTokenizer(const std::string& path) {
    std::string file = path;
    if (is_dir(path)) {
        std::ifstream a(path + "/merges.txt");
        file = a.good() ? path + "/merges.txt" : path + "/bpe_simple_vocab_16e6.txt.gz";
    }
    std::string text =
        read_file(file, "the BPE merges", "run tools/fetch_clip_bpe.sh, or point to the CLIP folder holding merges.txt");
    if (file.size() > 3 && file.compare(file.size() - 3, 3, ".gz") == 0) text = gunzip(text, file);
    std::vector<std::string> lines;
    std::istringstream ss(text);
    for (std::string line; std::getline(ss, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    const bool header = !lines.empty() && lines[0].rfind("#version", 0) == 0;
    if (file.size() > 3 && file.compare(file.size() - 3, 3, ".gz") == 0) {
        // OpenCLIP's file holds more merges than CLIP uses: skip the header line, keep the next
        // 49152 - 256 - 2 = 48894, as its SimpleTokenizer does
        const size_t want = 49152 - 256 - 2;
        ENSURE_HINT(lines.size() >= want + 1, "the merges file is truncated or not CLIP's",
                    "%s: %zu lines; CLIP's BPE has a header line and %zu merges", file.c_str(), lines.size(), want);
        init(std::vector<std::string>(lines.begin() + 1, lines.begin() + 1 + want), file);
    } else {
        // a model folder's merges.txt (Hugging Face's layout, or the demo's): every merge it lists
        std::vector<std::string> merges(lines.begin() + (header ? 1 : 0), lines.end());
        while (!merges.empty() && merges.back().empty()) merges.pop_back();
        init(merges, file);
    }
}

ClipTokenizer::ClipTokenizer(const std::vector<std::string>& merges, const std::string& name) { init(merges, name); }

void ClipTokenizer::init(const std::vector<std::string>& merges, const std::string& name) {
    // GPT-2's table: the printable bytes stand for themselves, the others (control characters,
    // space, 127..160, 173) take the code points 256, 257, ... in byte order
    byte_symbol_.assign(256, 0);
    std::vector<int> order;  // the bytes in vocabulary order
    for (int b = 0; b < 256; b++)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) { byte_symbol_[b] = (char32_t)b; order.push_back(b); }
    int next = 256;
    for (int b = 0; b < 256; b++)
        if (!byte_symbol_[b]) { byte_symbol_[b] = (char32_t)next++; order.push_back(b); }
    for (int b : order) vocab_.push_back(utf8_encode(std::u32string(1, byte_symbol_[b])));
    for (int b : order) vocab_.push_back(utf8_encode(std::u32string(1, byte_symbol_[b])) + "</w>");
    for (size_t r = 0; r < merges.size(); r++) {
        const std::string& m = merges[r];
        const size_t sp = m.find(' ');
        ENSURE_HINT(sp != std::string::npos && sp > 0 && sp + 1 < m.size() && m.find(' ', sp + 1) == std::string::npos,
                    "each merge line is two symbols separated by one space",
                    "%s: merge %zu is '%s'", name.c_str(), r + 1, m.c_str());
        ranks_[m] = (int)r;
        vocab_.push_back(m.substr(0, sp) + m.substr(sp + 1));
    }
    sot_id = (int)vocab_.size();
    vocab_.push_back("<start_of_text>");
    eot_id = (int)vocab_.size();
    vocab_.push_back("<end_of_text>");
    for (size_t i = 0; i < vocab_.size(); i++) ids_.emplace(vocab_[i], (int)i);
}

std::string ClipTokenizer::clean(const std::string& text) const {
    std::u32string t;
    for (char32_t c : utf8_decode(text)) {  // ftfy's fixes we make (see the header)
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) t += '\'';
        else if (c >= 0x201C && c <= 0x201F) t += '"';
        else if (c >= 0xFF01 && c <= 0xFF5E) t += c - 0xFEE0;  // full-width ASCII
        else if (c == 0x3000) t += ' ';
        else if (c >= 0xFB00 && c <= 0xFB06) {
            static const char* lig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
            for (const char* p = lig[c - 0xFB00]; *p; p++) t += (char32_t)*p;
        } else if (c == 0x132) t += U"IJ";
        else if (c == 0x133) t += U"ij";
        else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F) continue;  // control
        else t += c;
    }
    t = html_unescape(html_unescape(t));
    std::u32string out;  // white space runs to one space, trimmed, lower case
    for (char32_t c : t) {
        if (unicode_space(c)) {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else if (c == 0x130) {
            out += U"i\u0307";
        } else {
            out += unicode_lower(c);
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return utf8_encode(out);
}

std::vector<std::string> ClipTokenizer::pieces(const std::string& cleaned) const {
    const std::u32string t = utf8_decode(cleaned);
    std::vector<std::string> out;
    static const std::u32string special[] = {U"<start_of_text>", U"<end_of_text>"};
    static const std::u32string contractions[] = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
    auto other = [](char32_t c) { return !unicode_space(c) && !unicode_letter(c) && !unicode_number(c); };
    for (size_t i = 0; i < t.size();) {
        size_t len = 0;
        for (const auto& s : special)
            if (!len && t.compare(i, s.size(), s) == 0) len = s.size();
        for (const auto& s : contractions)
            if (!len && t.compare(i, s.size(), s) == 0) len = s.size();
        if (!len && unicode_letter(t[i]))
            while (i + len < t.size() && unicode_letter(t[i + len])) len++;
        if (!len && unicode_number(t[i])) len = 1;
        if (!len && other(t[i]))
            while (i + len < t.size() && other(t[i + len])) len++;
        if (!len) { i++; continue; }  // white space
        out.push_back(utf8_encode(t.substr(i, len)));
        i += len;
    }
    return out;
}

// The BPE of one piece: its bytes as symbols ("</w>" on the last), then merge the adjacent pair
// of lowest rank, every occurrence left to right, until no pair has a rank.
std::vector<std::string> ClipTokenizer::bpe(const std::string& piece) const {
    std::vector<std::string> word;
    for (unsigned char b : piece) word.push_back(utf8_encode(std::u32string(1, byte_symbol_[b])));
    if (word.empty()) return word;
    word.back() += "</w>";
    while (word.size() > 1) {
        int best = INT_MAX;
        std::string first, second;
        for (size_t i = 0; i + 1 < word.size(); i++) {
            const auto it = ranks_.find(word[i] + " " + word[i + 1]);
            if (it != ranks_.end() && it->second < best) { best = it->second; first = word[i]; second = word[i + 1]; }
        }
        if (best == INT_MAX) break;
        std::vector<std::string> merged;
        for (size_t i = 0; i < word.size();) {
            if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
                merged.push_back(first + second);
                i += 2;
            } else {
                merged.push_back(word[i++]);
            }
        }
        word.swap(merged);
    }
    return word;
}

std::vector<int> ClipTokenizer::bpe_ids(const std::string& text) const {
    std::vector<int> ids;
    for (const std::string& p : pieces(clean(text))) {
        if (p == "<start_of_text>") { ids.push_back(sot_id); continue; }
        if (p == "<end_of_text>") { ids.push_back(eot_id); continue; }
        for (const std::string& sym : bpe(p)) ids.push_back(ids_.at(sym));
    }
    return ids;
}

std::vector<int> ClipTokenizer::encode(const std::string& text, int context) const {
    ENSURE(context >= 2, "ClipTokenizer::encode: a context of %d tokens; expected at least 2", context);
    std::vector<int> ids{sot_id};
    const std::vector<int> body = bpe_ids(text);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(eot_id);
    if ((int)ids.size() > context) {
        ids.resize(context);
        ids.back() = eot_id;
    }
    ids.resize(context, 0);
    return ids;
}

std::vector<std::string> learn_bpe(const std::vector<std::string>& texts, int n) {
    const ClipTokenizer t(std::vector<std::string>{}, "learn_bpe");  // for its cleaning and splitting
    // distinct pieces with their counts, in first-seen order (so ties break the same way every run)
    std::unordered_map<std::string, size_t> at;
    std::vector<std::pair<std::vector<std::string>, int64_t>> words;
    for (const std::string& text : texts)
        for (const std::string& p : t.pieces(t.clean(text))) {
            auto it = at.find(p);
            if (it != at.end()) { words[it->second].second++; continue; }
            std::vector<std::string> sym;
            for (int id : t.bpe_ids(p)) sym.push_back(t.token(id));  // no merges yet: one symbol per byte
            at.emplace(p, words.size());
            words.push_back({sym, 1});
        }
    std::vector<std::string> merges;
    while ((int)merges.size() < n) {
        std::unordered_map<std::string, std::pair<int64_t, size_t>> count;  // pair -> (count, first seen)
        size_t order = 0;
        for (const auto& [sym, c] : words)
            for (size_t i = 0; i + 1 < sym.size(); i++) {
                auto& e = count.try_emplace(sym[i] + " " + sym[i + 1], 0, order++).first->second;
                e.first += c;
            }
        std::string best;
        std::pair<int64_t, size_t> top{1, 0};  // a pair must occur at least twice
        for (const auto& [pair, e] : count)
            if (e.first > top.first || (e.first == top.first && !best.empty() && e.second < top.second)) { best = pair; top = e; }
        if (best.empty()) break;
        merges.push_back(best);
        const size_t sp = best.find(' ');
        const std::string a = best.substr(0, sp), b = best.substr(sp + 1);
        for (auto& [sym, c] : words) {
            std::vector<std::string> out;
            for (size_t i = 0; i < sym.size();) {
                if (i + 1 < sym.size() && sym[i] == a && sym[i + 1] == b) { out.push_back(a + b); i += 2; }
                else out.push_back(sym[i++]);
            }
            sym.swap(out);
        }
    }
    return merges;
}

}  // namespace vsd
