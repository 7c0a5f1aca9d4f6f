#include "check.h"

#include <cstring>
#include <exception>
#include <vector>

namespace vsd {

std::string strfmt(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::vector<char> buf(n > 0 ? n + 1 : 1);
    std::vsnprintf(buf.data(), buf.size(), fmt, ap2);
    va_end(ap2);
    return std::string(buf.data(), n > 0 ? n : 0);
}

void throw_error(const char* file, int line, const std::string& msg, const char* hint) {
    // Keep only the path from the project root ("src/...", "kernels/...") for short messages.
    const char* short_file = file;
    for (const char* root : {"src/", "kernels/", "tools/", "tests/"}) {
        const char* p = std::strstr(file, root);
        if (p) { short_file = p; break; }
    }
    std::string s = strfmt("%s:%d: %s", short_file, line, msg.c_str());
    if (hint && *hint) s += std::string(" HINT: ") + hint;
    throw Error(s);
}

int run_main(int (*body)(int, char**), int argc, char** argv, FILE* err) {
    try {
        return body(argc, argv);
    } catch (const Error& e) {
        std::fprintf(err, "error: %s\n", e.what());
    } catch (const std::bad_alloc&) {
        std::fprintf(err, "error: out of memory. HINT: reduce --batch_size or the data size\n");
    } catch (const std::exception& e) {
        std::fprintf(err, "error: %s\n", e.what());
    }
    return 1;
}

int64_t checked_bytes(const std::vector<int64_t>& dims, int64_t elem_bytes, const std::string& what) {
    const int64_t kMax = int64_t(1) << 62;
    int64_t bytes = elem_bytes;
    for (int64_t d : dims) {
        ENSURE(d >= 0, "%s: a negative dimension (%lld)", what.c_str(), (long long)d);
        ENSURE(d == 0 || bytes <= kMax / d, "%s: a shape of more than 2^62 bytes (the header is corrupt)", what.c_str());
        bytes *= d;
    }
    return bytes;
}

}  // namespace vsd
