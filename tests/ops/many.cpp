// The many slice (kernels/many.*): zero_many (the tape's gradient buffers) and copy_many (BatchNorm's
// statistics, kept and restored), each one launch.
#include "../../kernels/many.h"
#include "kernel_parity.h"

// ---- values by hand: every listed element 0, nothing else touched -------------------------------

TEST_CASE("zero_many (CPU reference): zeroes exactly the listed ranges") {
    std::vector<float> a(10, 1.0f), b(3, 2.0f);
    float* ptr[3] = {a.data() + 2, b.data(), a.data() + 9};
    const int64_t n[3] = {5, 0, 1};
    zero_many_cpu(ptr, n, 3);
    CHECK(a == std::vector<float>{1, 1, 0, 0, 0, 0, 0, 1, 1, 0});
    CHECK(b == std::vector<float>{2, 2, 2});
}

// ---- kernel level: the device against the CPU reference (kernel_parity.h) ------------------------

template <class Bk>
void parity_zero_many() {
    // 150 buffers (three launches of at most 64), of sizes 0 .. one past a block, and one of 5000
    // (several grid-stride blocks), carved from one device allocation with a guard element after
    // each: the guards must keep their values
    std::vector<int64_t> n;
    for (int b = 0; b < 150; b++) n.push_back(b == 7 ? 5000 : (b * 37) % 260);
    int64_t total = 0;
    for (int64_t m : n) total += m + 1;
    const std::vector<float> start = randv(total, 21);
    Buf<Bk> D(start);
    std::vector<float*> dptr, hptr;
    std::vector<float> want = start;
    int64_t at = 0;
    for (int64_t m : n) {
        dptr.push_back(D.d + at);
        hptr.push_back(want.data() + at);
        at += m + 1;
    }
    zero_many_cpu(hptr.data(), n.data(), (int)n.size());
    VSD_RUN(Bk{}, zero_many)(dptr.data(), n.data(), (int)n.size());
    CHECK_PARITY(D.get(), want, 0.0f, 0.0f);
}
KERNEL_PARITY(parity_zero_many, "zero_many: 150 buffers of 0..5000 elements, guards untouched")

template <class Bk>
void parity_copy_many() {
    // 70 buffers (two launches), sizes 0..300 words, copied into a poisoned destination with a
    // guard word after each; then with a zero flag (nothing copied) and a set flag (copied)
    std::vector<int64_t> n;
    for (int b = 0; b < 70; b++) n.push_back((b * 53) % 301);
    int64_t total = 0;
    for (int64_t m : n) total += m + 1;
    const std::vector<float> src = randv(total, 31), dst0 = randv(total, 32);
    for (float flag : {0.0f, 1.0f}) {
        CAPTURE(flag);
        Buf<Bk> S(src), D(dst0), F(std::vector<float>{flag});
        std::vector<float> want = dst0;
        std::vector<void*> dd, hd;
        std::vector<const void*> ds, hs;
        int64_t at = 0;
        for (int64_t m : n) {
            dd.push_back(D.d + at), ds.push_back(S.d + at);
            hd.push_back(want.data() + at), hs.push_back(src.data() + at);
            at += m + 1;
        }
        copy_many_cpu(&flag, hd.data(), hs.data(), n.data(), (int)n.size());
        VSD_RUN(Bk{}, copy_many)(F.d, dd.data(), ds.data(), n.data(), (int)n.size());
        CHECK_PARITY(D.get(), want, 0.0f, 0.0f);
        if (flag == 0.0f) CHECK(want == dst0);  // the reference copied nothing
    }
}
KERNEL_PARITY(parity_copy_many, "copy_many: 70 buffers, guards untouched, only when the device flag is set")
