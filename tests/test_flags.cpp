// Command-line flags.
#include <fstream>
#include <sstream>

#include "../src/core/flags.h"
#include "../src/train/trainer.h"
#include "helpers.h"

TEST_CASE("flags: values, booleans, positional, unknown flags, bad values") {
    std::string s = "x";
    int64_t n = 3;
    float f = 0.5f;
    bool b = false, c = true;
    Flags fl("prog", "test");
    fl.add("name", &s, "a string");
    fl.add("num_epochs", &n, "an int");
    fl.add("lr", &f, "a float");
    fl.add("flag", &b, "a bool");
    fl.add("other", &c, "a bool");
    const char* argv[] = {"prog", "--name", "abc", "--num_epochs=7", "--lr", "1e-3", "--flag", "--other=0", "pos"};
    CHECK(fl.parse(9, (char**)argv, true));
    CHECK(s == "abc");
    CHECK(n == 7);
    CHECK(f == doctest::Approx(1e-3));
    CHECK(b);
    CHECK_FALSE(c);
    CHECK(fl.positional() == std::vector<std::string>{"pos"});
    CHECK(fl.was_set("lr"));
    CHECK(fl.help().find("--num_epochs  an int [3]") != std::string::npos);  // the default, as registered
    const char* bad1[] = {"prog", "--num_epoch", "3"};
    CHECK_THROWS_WITH(fl.parse(3, (char**)bad1), doctest::Contains("unknown flag --num_epoch (did you mean --num_epochs?)"));
    const char* bad2[] = {"prog", "--num_epochs", "x3"};
    CHECK_THROWS_WITH(fl.parse(3, (char**)bad2), doctest::Contains("--num_epochs expects an integer, got 'x3'"));
    const char* bad3[] = {"prog", "stray"};
    CHECK_THROWS_WITH(fl.parse(2, (char**)bad3), doctest::Contains("unexpected argument 'stray'"));
    const char* bad4[] = {"prog", "--lr"};
    CHECK_THROWS_WITH(fl.parse(2, (char**)bad4), doctest::Contains("--lr needs a value"));
}

TEST_CASE("flags: one declaration gives the config JSON (recorded flags in order, Local ones left out) and the resume rule") {
    std::string path = "a\"b", local = "x";
    int64_t n = 3;
    bool on = true;
    double lr = 2.5e-5;
    Flags fl("prog", "test");
    fl.add("path", &path, "a path", Flags::Setting);
    fl.add("n", &n, "a recipe value");
    fl.add("log", &local, "for this run only", Flags::Local);
    fl.add("on", &on, "a switch");
    fl.add("lr", &lr, "a rate");
    CHECK(fl.to_json({{"row", "\"GPO\""}}) == "{\"path\": \"a\\\"b\", \"n\": 3, \"on\": 1, \"lr\": 2.5e-05, \"row\": \"GPO\"}");
    const char* argv[] = {"prog", "--n", "7", "--on=0"};
    CHECK(fl.parse(4, (char**)argv));
    CHECK(fl.to_json() == "{\"path\": \"a\\\"b\", \"n\": 7, \"on\": 0, \"lr\": 2.5e-05}");  // the current values
    CHECK(fl.record_of("path") == Flags::Setting);
    CHECK(fl.record_of("n") == Flags::Recipe);
    CHECK(fl.record_of("log") == Flags::Local);
    CHECK(fl.record_of("never_declared") == Flags::Local);
}

TEST_CASE("flags: every training flag that docs/usage.md documents exists (the docs cannot drift from the declarations)") {
    std::ifstream in(std::string(VSD_SOURCE_DIR) + "/docs/usage.md");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string doc = ss.str();
    TrainConfig cfg;
    Flags f("train", "");
    cfg.add_flags(f);
    const std::string help = f.help();
    int documented = 0;
    // the flags table: rows starting with | `--name`
    for (size_t at = doc.find("| `--"); at != std::string::npos; at = doc.find("| `--", at + 1)) {
        const size_t end = doc.find('|', at + 1);
        const std::string cell = doc.substr(at, end - at);
        for (size_t p = cell.find("`--"); p != std::string::npos; p = cell.find("`--", p + 1)) {
            const std::string name = cell.substr(p + 3, cell.find('`', p + 3) - p - 3);
            CAPTURE(name);
            const bool exists = help.find("--" + name + " ") != std::string::npos;
            CHECK_MESSAGE(exists, "docs/usage.md documents --" << name << ", which train does not have");
            documented++;
        }
    }
    CHECK(documented > 40);
}
