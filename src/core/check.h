// check.h — errors that say what was expected, what was found, and how to fix it.
//
// Every precondition in the project goes through ENSURE / ENSURE_HINT. A failed check throws
// vsd::Error whose message is ONE line:
//
//     src/ops/gemm.cpp:42: matmul: inner dimensions differ: a is (3, 4), b is (5, 2). HINT: ...
//
// Each program's main() catches vsd::Error, prints what() to stderr and exits 1 (see run_main
// below), so a user never sees a core dump; tests assert on the text with CHECK_THROWS_WITH.
#pragma once
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace vsd {

struct Error : std::runtime_error {
    explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// printf-style formatting into a std::string (used by the macros and by shape_str).
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void throw_error(const char* file, int line, const std::string& msg, const char* hint);

// Size arithmetic for what a file declares, in one place: the byte count of `dims` elements of
// `elem_bytes` each, or an error naming `what` when a dimension is negative or the product passes
// 2^62 bytes (no real array is that large; a hostile header must not wrap around to a small number).
int64_t checked_bytes(const std::vector<int64_t>& dims, int64_t elem_bytes, const std::string& what);

// Run a program body; print any vsd::Error (or other exception) as one line to `err` and return 1.
int run_main(int (*body)(int, char**), int argc, char** argv, FILE* err = stderr);

}  // namespace vsd

// ENSURE(cond, fmt, ...): throw "file:line: <message>" when cond is false.
#define ENSURE(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) ::vsd::throw_error(__FILE__, __LINE__, ::vsd::strfmt(__VA_ARGS__), nullptr); \
    } while (0)

// ENSURE_HINT(cond, hint, fmt, ...): same, with " HINT: <hint>" appended.
#define ENSURE_HINT(cond, hint, ...)                                                        \
    do {                                                                                   \
        if (!(cond)) ::vsd::throw_error(__FILE__, __LINE__, ::vsd::strfmt(__VA_ARGS__), hint); \
    } while (0)

// FATAL(fmt, ...): unconditional error.
#define FATAL(...) ::vsd::throw_error(__FILE__, __LINE__, ::vsd::strfmt(__VA_ARGS__), nullptr)
