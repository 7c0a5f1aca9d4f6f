#include "json.h"

#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "../core/check.h"
#include "tokenizer.h"  // utf8_encode

namespace vsd {

struct JsonParser {
    const std::string& s;
    std::shared_ptr<const std::string> src;
    size_t i = 0;
    int depth = 0;
    static constexpr int kMaxDepth = 512;

    [[noreturn]] void fail(const std::string& what) {
        size_t line = 1, col = 1;
        for (size_t k = 0; k < i && k < s.size(); k++) {
            if (s[k] == '\n') { line++; col = 1; }
            else col++;
        }
        std::string found = i < s.size() ? ("'" + std::string(1, s[i]) + "'") : "end of input";
        if (i < s.size() && ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f))
            found = strfmt("byte 0x%02x", (unsigned char)s[i]);
        FATAL("%s:%zu:%zu: invalid JSON: expected %s, found %s", src->c_str(), line, col, what.c_str(), found.c_str());
    }
    void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++; }
    bool lit(const char* w) {
        size_t n = std::strlen(w);
        if (s.compare(i, n, w) == 0) { i += n; return true; }
        return false;
    }

    uint32_t hex4() {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            if (i >= s.size()) fail("4 hex digits after \\u");
            char c = s[i++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= c - '0';
            else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
            else { i--; fail("a hex digit"); }
        }
        return v;
    }
    std::string string() {
        if (i >= s.size() || s[i] != '"') fail("'\"'");
        i++;
        std::string out;
        for (;;) {
            if (i >= s.size()) fail("a closing '\"'");
            unsigned char c = (unsigned char)s[i];
            if (c == '"') {
                size_t bad = 0;
                if (!utf8_valid(out, &bad)) fail(strfmt("valid UTF-8 in strings (byte 0x%02x at offset %zu of the string)",
                                                        (unsigned char)out[bad], bad));
                i++;
                return out;
            }
            if (c < 0x20) fail("no raw control characters inside a string");
            if (c != '\\') { out += (char)c; i++; continue; }
            i++;
            if (i >= s.size()) fail("an escape character");
            char e = s[i++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
                        if (!(i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u')) fail("a low surrogate \\uDC00-\\uDFFF");
                        i += 2;
                        uint32_t lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) fail("a low surrogate \\uDC00-\\uDFFF");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        fail("no lone low surrogate");
                    }
                    out += utf8_encode(std::u32string(1, (char32_t)cp));
                    break;
                }
                default: i--; fail("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
            }
        }
    }
    Json number() {
        size_t start = i;
        if (i < s.size() && s[i] == '-') i++;
        if (i >= s.size() || !isdigit((unsigned char)s[i])) fail("a digit");
        if (s[i] == '0') i++;
        else while (i < s.size() && isdigit((unsigned char)s[i])) i++;
        bool integer = true;
        if (i < s.size() && s[i] == '.') {
            integer = false;
            i++;
            if (i >= s.size() || !isdigit((unsigned char)s[i])) fail("a digit after '.'");
            while (i < s.size() && isdigit((unsigned char)s[i])) i++;
        }
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            integer = false;
            i++;
            if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
            if (i >= s.size() || !isdigit((unsigned char)s[i])) fail("a digit in the exponent");
            while (i < s.size() && isdigit((unsigned char)s[i])) i++;
        }
        std::string tok = s.substr(start, i - start);
        Json j;
        j.src_ = src;
        j.type_ = Json::Type::Number;
        j.num_ = std::strtod(tok.c_str(), nullptr);
        if (!std::isfinite(j.num_)) {  // 1e999 is not infinity
            i = start;
            fail("a number within the range of a double");
        }
        if (integer) {
            errno = 0;
            long long v = std::strtoll(tok.c_str(), nullptr, 10);
            if (errno == 0) { j.is_int_ = true; j.int_ = v; }
        }
        return j;
    }
    Json value() {
        ws();
        if (i >= s.size()) fail("a value");
        char c = s[i];
        Json j;
        j.src_ = src;
        if (c == '{') {
            if (++depth > kMaxDepth) fail("nesting at most 512 deep");
            i++;
            j.type_ = Json::Type::Object;
            j.index_ = std::make_shared<std::map<std::string, size_t>>();
            ws();
            if (i < s.size() && s[i] == '}') { i++; depth--; return j; }
            for (;;) {
                ws();
                std::string key = string();
                ws();
                if (i >= s.size() || s[i] != ':') fail("':'");
                i++;
                Json v = value();
                // a key twice is ambiguous (parsers disagree on which one wins): an error, not a silent choice
                if (j.index_->count(key)) fail("each key once in an object (\"" + key + "\" appears twice)");
                (*j.index_)[key] = j.obj_.size();
                j.obj_.emplace_back(std::move(key), std::move(v));
                ws();
                if (i < s.size() && s[i] == ',') { i++; continue; }
                if (i < s.size() && s[i] == '}') { i++; break; }
                fail("',' or '}'");
            }
            depth--;
        } else if (c == '[') {
            if (++depth > kMaxDepth) fail("nesting at most 512 deep");
            i++;
            j.type_ = Json::Type::Array;
            ws();
            if (i < s.size() && s[i] == ']') { i++; depth--; return j; }
            for (;;) {
                j.arr_.push_back(value());
                ws();
                if (i < s.size() && s[i] == ',') { i++; continue; }
                if (i < s.size() && s[i] == ']') { i++; break; }
                fail("',' or ']'");
            }
            depth--;
        } else if (c == '"') {
            j.type_ = Json::Type::String;
            j.str_ = string();
        } else if (c == '-' || isdigit((unsigned char)c)) {
            j = number();
        } else if (lit("true")) {
            j.type_ = Json::Type::Bool;
            j.b_ = true;
        } else if (lit("false")) {
            j.type_ = Json::Type::Bool;
        } else if (lit("null")) {
        } else {
            fail("a value (object, array, string, number, true, false or null)");
        }
        return j;
    }
};

Json Json::parse(const std::string& text, const std::string& source) {
    JsonParser p{text, std::make_shared<const std::string>(source)};
    size_t start = 0;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;  // tolerate a UTF-8 byte-order mark
    p.i = start;
    Json j = p.value();
    p.ws();
    if (p.i != text.size()) p.fail("end of input after the value");
    return j;
}

Json Json::parse_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), "check the path", "%s: cannot open", path.c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    return parse(ss.str(), path);
}

std::string Json::type_name() const {
    switch (type_) {
        case Type::Null: return "null";
        case Type::Bool: return "a boolean";
        case Type::Number: return "a number";
        case Type::String: return "a string";
        case Type::Array: return "an array";
        case Type::Object: return "an object";
    }
    return "?";
}

#define JSON_EXPECT(cond, want) \
    ENSURE(cond, "%s: %s must be %s, found %s", source(), what, want, type_name().c_str())

bool Json::as_bool(const char* what) const { JSON_EXPECT(type_ == Type::Bool, "a boolean"); return b_; }
double Json::as_double(const char* what) const { JSON_EXPECT(type_ == Type::Number, "a number"); return num_; }
int64_t Json::as_int(const char* what) const {
    JSON_EXPECT(type_ == Type::Number && is_int_, "an integer");
    return int_;
}
const std::string& Json::as_string(const char* what) const { JSON_EXPECT(type_ == Type::String, "a string"); return str_; }
const std::vector<Json>& Json::items(const char* what) const { JSON_EXPECT(type_ == Type::Array, "an array"); return arr_; }
const std::vector<std::pair<std::string, Json>>& Json::members(const char* what) const {
    JSON_EXPECT(type_ == Type::Object, "an object");
    return obj_;
}

size_t Json::size() const { return type_ == Type::Array ? arr_.size() : type_ == Type::Object ? obj_.size() : 0; }
bool Json::has(const std::string& key) const { return find(key) != nullptr; }
const Json* Json::find(const std::string& key) const {
    if (type_ != Type::Object || !index_) return nullptr;
    auto it = index_->find(key);
    return it == index_->end() ? nullptr : &obj_[it->second].second;
}
const Json& Json::operator[](const std::string& key) const {
    const Json* j = find(key);
    ENSURE(j, "%s: missing key \"%s\"%s", source(), key.c_str(),
           type_ == Type::Object ? "" : (" (the value is " + type_name() + ", not an object)").c_str());
    return *j;
}
const Json& Json::operator[](size_t i) const {
    ENSURE(type_ == Type::Array && i < arr_.size(), "%s: index %zu out of range (%zu items)",
           source(), i, size());
    return arr_[i];
}

std::string json_quote(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) o += strfmt("\\u%04x", c);
                else o += (char)c;
        }
    }
    return o + "\"";
}

}  // namespace vsd
