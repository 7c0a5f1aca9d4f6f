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
    // What a flag is to the run it configures. A flag is declared once (its add() line); its name,
    // default, help, its entry in the run's config JSON (run.json, checkpoint metadata) and its
    // part in resuming all come from that declaration.
    enum Record {
        Recipe,   // shapes training: recorded, and a resume must use the checkpoint's value
        Setting,  // recorded, but free to change on resume (paths, device, epochs, validation)
        Local,    // this invocation only: not recorded (logging, --resume itself, --dry_run)
    };
    Flags(std::string program, std::string summary);
    void add(const std::string& name, std::string* v, const std::string& help, Record r = Recipe);
    void add(const std::string& name, int64_t* v, const std::string& help, Record r = Recipe);
    void add(const std::string& name, int* v, const std::string& help, Record r = Recipe);
    void add(const std::string& name, float* v, const std::string& help, Record r = Recipe);
    void add(const std::string& name, double* v, const std::string& help, Record r = Recipe);
    void add(const std::string& name, bool* v, const std::string& help, Record r = Recipe);  // --x, --x=0/1/true/false
    void add(const std::string& name, uint64_t* v, const std::string& help, Record r = Recipe);
    // Parse; returns false when --help was printed (the caller exits 0). Positional arguments are
    // collected in positional() when allowed.
    bool parse(int argc, char** argv, bool allow_positional = false);
    const std::vector<std::string>& positional() const { return positional_; }
    std::string help() const;
    bool was_set(const std::string& name) const;  // given on the command line?
    // The recorded flags' current values as one JSON object, in declaration order (booleans as
    // 0/1), followed by `extra` ("key", JSON text) pairs.
    std::string to_json(const std::vector<std::pair<std::string, std::string>>& extra = {}) const;
    Record record_of(const std::string& name) const;  // Local for a name never declared

private:
    struct Flag {
        std::string name, help, def;
        bool is_bool;
        std::function<void(const std::string&)> set;
        std::function<std::string()> json;  // the current value as JSON text
        Record record = Recipe;
        bool given = false;
    };
    std::string program_, summary_;
    std::vector<Flag> flags_;
    std::vector<std::string> positional_;
    Flag* find(const std::string& name);
    void push(const std::string& name, const std::string& help, bool is_bool, std::function<void(const std::string&)> set,
              std::function<std::string()> json, Record r);
};

}  // namespace vsd
