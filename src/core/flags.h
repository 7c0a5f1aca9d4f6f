// flags.h — command-line flags: `--name value` or `--name=value`, `--help` lists every flag with
// its default. Unknown flags and bad values are one-line errors that suggest the closest name.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vsd {

class Flags {
public:
    Flags(std::string program, std::string summary);
    void add(const std::string& name, std::string* v, const std::string& help);
    void add(const std::string& name, int64_t* v, const std::string& help);
    void add(const std::string& name, int* v, const std::string& help);
    void add(const std::string& name, float* v, const std::string& help);
    void add(const std::string& name, double* v, const std::string& help);
    void add(const std::string& name, bool* v, const std::string& help);  // --x, --x=0/1/true/false
    void add(const std::string& name, uint64_t* v, const std::string& help);
    // Parse; returns false when --help was printed (the caller exits 0). Positional arguments are
    // collected in positional() when allowed.
    bool parse(int argc, char** argv, bool allow_positional = false);
    const std::vector<std::string>& positional() const { return positional_; }
    std::string help() const;
    bool was_set(const std::string& name) const;  // given on the command line?

private:
    struct Flag {
        std::string name, help, def;
        bool is_bool;
        std::function<void(const std::string&)> set;
        bool given = false;
    };
    std::string program_, summary_;
    std::vector<Flag> flags_;
    std::vector<std::string> positional_;
    Flag* find(const std::string& name);
};

}  // namespace vsd
