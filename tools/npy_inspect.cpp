// npy_inspect — what is in an .npy file: dtype, shape, min/max/mean, NaN and Inf counts.
//   build/<cfg>/npy_inspect FILE...
// Big files are memory-mapped and scanned once.
#include <cmath>
#include <cstdio>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/data/npy.h"

using namespace vsd;

static int body(int argc, char** argv) {
    Flags f("npy_inspect", "print dtype, shape, min/max/mean and NaN/Inf counts of .npy files (FILE...)");
    if (!f.parse(argc, argv, true)) return 0;
    ENSURE_HINT(!f.positional().empty(), "npy_inspect FILE.npy ...", "npy_inspect: no files given");
    int bad = 0;
    for (const std::string& p : f.positional()) {
        try {
            NpyArray a = npy_open(p);
            double mn = INFINITY, mx = -INFINITY, sum = 0;
            int64_t nan = 0, inf = 0, n = a.numel();
            for (int64_t i = 0; i < n; i++) {
                double v = a.at(i);
                if (std::isnan(v)) { nan++; continue; }
                if (std::isinf(v)) { inf++; continue; }
                mn = std::min(mn, v);
                mx = std::max(mx, v);
                sum += v;
            }
            int64_t finite = n - nan - inf;
            std::printf("%s: %s %s (npy v%d) min %.6g max %.6g mean %.6g NaN %lld Inf %lld\n", p.c_str(),
                        npy_type_name(a.type), a.shape_str().c_str(), a.version_major, finite ? mn : NAN, finite ? mx : NAN,
                        finite ? sum / finite : NAN, (long long)nan, (long long)inf);
        } catch (const Error& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            bad++;
        }
    }
    return bad ? 1 : 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
