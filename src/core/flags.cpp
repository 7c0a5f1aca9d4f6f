#include "flags.h"

#include <cerrno>
#include <cmath>
#include <limits>
#include <type_traits>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "check.h"

namespace vsd {

Flags::Flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

static std::string fmt_float(double v) { return strfmt("%g", v); }

template <class T, class Conv>
static std::function<void(const std::string&)> setter(const std::string& name, T* v, Conv conv, const char* kind) {
    return [name, v, conv, kind](const std::string& s) {
        char* end = nullptr;
        errno = 0;
        auto x = conv(s.c_str(), &end);
        ENSURE_HINT(!s.empty() && end && *end == 0 && errno == 0, "see --help", "--%s expects %s, got '%s'", name.c_str(),
                    kind, s.c_str());
        if constexpr (std::is_integral_v<T>) {  // no silent wrap-around: 4294967297 is not 1, -1 is not 2^64 - 1
            ENSURE_HINT(!(std::is_unsigned_v<T> && s.find('-') != std::string::npos) &&
                            (long double)x >= (long double)std::numeric_limits<T>::lowest() &&
                            (long double)x <= (long double)std::numeric_limits<T>::max(),
                        "see --help", "--%s expects %s in [%lld, %llu], got '%s'", name.c_str(), kind,
                        (long long)std::numeric_limits<T>::lowest(), (unsigned long long)std::numeric_limits<T>::max(), s.c_str());
        } else {
            ENSURE_HINT(std::isfinite((double)x), "see --help", "--%s expects a finite number, got '%s'", name.c_str(), s.c_str());
        }
        *v = (T)x;
    };
}

// a JSON string literal
static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') q += '\\', q += (char)c;
        else if (c < 0x20) q += strfmt("\\u%04x", c);
        else q += (char)c;
    }
    return q + "\"";
}

// Every add() ends here: the default shown by --help is the value's JSON text at declaration.
void Flags::push(const std::string& n, const std::string& h, bool is_bool, std::function<void(const std::string&)> set,
                 std::function<std::string()> json, Record r) {
    const std::string def = json();
    flags_.push_back({n, h, def, is_bool, std::move(set), std::move(json), r});
}

void Flags::add(const std::string& n, std::string* v, const std::string& h, Record r) {
    push(n, h, false, [v](const std::string& s) { *v = s; }, [v] { return quote(*v); }, r);
}
void Flags::add(const std::string& n, int64_t* v, const std::string& h, Record r) {
    push(n, h, false, setter(n, v, [](const char* s, char** e) { return std::strtoll(s, e, 10); }, "an integer"),
         [v] { return std::to_string(*v); }, r);
}
void Flags::add(const std::string& n, int* v, const std::string& h, Record r) {
    push(n, h, false, setter(n, v, [](const char* s, char** e) { return std::strtol(s, e, 10); }, "an integer"),
         [v] { return std::to_string(*v); }, r);
}
void Flags::add(const std::string& n, uint64_t* v, const std::string& h, Record r) {
    push(n, h, false, setter(n, v, [](const char* s, char** e) { return std::strtoull(s, e, 10); }, "a non-negative integer"),
         [v] { return std::to_string(*v); }, r);
}
void Flags::add(const std::string& n, float* v, const std::string& h, Record r) {
    push(n, h, false, setter(n, v, [](const char* s, char** e) { return std::strtod(s, e); }, "a number"),
         [v] { return fmt_float(*v); }, r);
}
void Flags::add(const std::string& n, double* v, const std::string& h, Record r) {
    push(n, h, false, setter(n, v, [](const char* s, char** e) { return std::strtod(s, e); }, "a number"),
         [v] { return fmt_float(*v); }, r);
}
void Flags::add(const std::string& n, bool* v, const std::string& h, Record r) {
    push(n, h, true,
         [n, v](const std::string& s) {
             if (s == "1" || s == "true" || s == "True" || s == "yes") *v = true;
             else if (s == "0" || s == "false" || s == "False" || s == "no") *v = false;
             else FATAL("--%s expects 0/1/true/false, got '%s'", n.c_str(), s.c_str());
         },
         [v] { return std::string(*v ? "1" : "0"); }, r);
}

std::string Flags::to_json(const std::vector<std::pair<std::string, std::string>>& extra) const {
    std::string j;
    for (const Flag& f : flags_)
        if (f.record != Local) j += (j.empty() ? "" : ", ") + quote(f.name) + ": " + f.json();
    for (const auto& [k, v] : extra) j += (j.empty() ? "" : ", ") + quote(k) + ": " + v;
    return "{" + j + "}";
}

Flags::Record Flags::record_of(const std::string& name) const {
    for (const Flag& f : flags_)
        if (f.name == name) return f.record;
    return Local;
}

Flags::Flag* Flags::find(const std::string& name) {
    for (Flag& f : flags_)
        if (f.name == name) return &f;
    return nullptr;
}

bool Flags::was_set(const std::string& name) const {
    for (const Flag& f : flags_)
        if (f.name == name) return f.given;
    return false;
}

// Levenshtein distance, for "did you mean"
static size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); j++) prev[j] = j;
    for (size_t i = 1; i <= a.size(); i++) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); j++)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

bool Flags::parse(int argc, char** argv, bool allow_positional) {
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(help().c_str(), stdout);
            return false;
        }
        if (a.rfind("--", 0) != 0) {
            ENSURE_HINT(allow_positional, "flags start with --; see --help", "%s: unexpected argument '%s'",
                        program_.c_str(), a.c_str());
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        bool has_value = false;
        size_t eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        Flag* f = find(name);
        if (!f) {
            std::string best;
            size_t bd = 4;
            for (const Flag& g : flags_) {
                size_t d = edit_distance(name, g.name);
                if (d < bd) { bd = d; best = g.name; }
            }
            FATAL("%s: unknown flag --%s%s. HINT: --help lists all flags", program_.c_str(), name.c_str(),
                  best.empty() ? "" : (" (did you mean --" + best + "?)").c_str());
        }
        if (!has_value) {
            if (f->is_bool && (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) value = "1";
            else {
                ENSURE(i + 1 < argc, "%s: --%s needs a value", program_.c_str(), name.c_str());
                value = argv[++i];
            }
        }
        f->set(value);
        f->given = true;
    }
    return true;
}

std::string Flags::help() const {
    std::string s = program_ + ": " + summary_ + "\n\nflags (default in brackets):\n";
    size_t w = 0;
    for (const Flag& f : flags_) w = std::max(w, f.name.size());
    for (const Flag& f : flags_)
        s += strfmt("  --%-*s  %s [%s]\n", (int)w, f.name.c_str(), f.help.c_str(), f.def.c_str());
    return s;
}

}  // namespace vsd
