// TensorBoard event files (src/data/tfevents.*) and the checksums under them (src/data/checksum.*).
#include <cstring>
#include <fstream>
#include <sstream>

#include "../src/data/checksum.h"
#include "../src/data/tfevents.h"
#include "helpers.h"

TEST_CASE("checksums: the standard check values") {
    // the "check" value of each algorithm: its checksum of the nine bytes "123456789"
    const std::string nine = "123456789";
    CHECK(crc32c(nine.data(), nine.size()) == 0xE3069283u);
    CHECK(crc32(nine.data(), nine.size()) == 0xCBF43926u);
    CHECK(adler32(nine.data(), nine.size()) == 0x091E01DEu);
    // in pieces, the same
    CHECK(crc32c(nine.data() + 4, 5, crc32c(nine.data(), 4)) == 0xE3069283u);
    CHECK(crc32(nine.data() + 1, 8, crc32(nine.data(), 1)) == 0xCBF43926u);
    CHECK(adler32(nine.data() + 3, 6, adler32(nine.data(), 3)) == 0x091E01DEu);
    CHECK(crc32c("", 0) == 0);
    CHECK(adler32("", 0) == 1);
    // Adler-32 of "Wikipedia" (its worked example)
    CHECK(adler32("Wikipedia", 9) == 0x11E60398u);
}

static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST_CASE("tfevents: byte for byte what TensorBoard's own writer makes (tools/make_tfevents_fixtures.py)") {
    // the same events as the fixture script's EVENTS
    std::string ours = tfrecord(event_file_version(1700000000.5));
    ours += tfrecord(event_scalar(1700000001.25, 0, "lr", 0.0005f));
    ours += tfrecord(event_scalar(1700000001.5, 1, "Le", 12.375f));
    ours += tfrecord(event_scalar(1700000002.0, 58, "r1", 0.0f));
    ours += tfrecord(event_scalar(1700000003.0, 1234567, "rsum", 412.5f));
    ours += tfrecord(event_scalar(1700000004.0, 300, "loss/matching", -1.5e-7f));
    ours += tfrecord(event_scalar(1700000005.0, int64_t(1) << 40, "meanr", 3.25f));
    const std::string want = slurp(fixture("tfevents/reference.tfevents"));
    REQUIRE(ours.size() == want.size());
    CHECK(ours == want);
}

TEST_CASE("tfevents: a TFRecord's framing by hand") {
    // payload "ab": length 2 (8 bytes LE), its masked CRC, the payload, the payload's masked CRC
    const std::string r = tfrecord("ab");
    REQUIRE(r.size() == 8 + 4 + 2 + 4);
    CHECK(r.substr(0, 8) == std::string("\x02\0\0\0\0\0\0\0", 8));
    auto masked = [](uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; };
    uint32_t len_crc, data_crc;
    std::memcpy(&len_crc, r.data() + 8, 4);
    std::memcpy(&data_crc, r.data() + 14, 4);
    const uint64_t two = 2;
    CHECK(len_crc == masked(crc32c(&two, 8)));
    CHECK(data_crc == masked(crc32c("ab", 2)));
    CHECK(r.substr(12, 2) == "ab");
}

TEST_CASE("tfevents: EventFile names its file as tensorboard_logger does and appends whole records") {
    const std::string dir = temp_dir("tfevents");
    std::string path;
    {
        EventFile ev(dir);
        path = ev.path();
        ev.scalar("lr", 0.5, 3);
        ev.scalar("rsum", 100.25, 4);
    }
    CHECK(path.find(dir + "/events.out.tfevents.") == 0);
    const std::string bytes = slurp(path);
    // three records: walk the framing and check every CRC
    size_t at = 0;
    int records = 0;
    auto masked = [](uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; };
    while (at < bytes.size()) {
        REQUIRE(at + 12 <= bytes.size());
        uint64_t n;
        uint32_t c1, c2;
        std::memcpy(&n, bytes.data() + at, 8);
        std::memcpy(&c1, bytes.data() + at + 8, 4);
        CHECK(c1 == masked(crc32c(bytes.data() + at, 8)));
        REQUIRE(at + 12 + n + 4 <= bytes.size());
        std::memcpy(&c2, bytes.data() + at + 12 + n, 4);
        CHECK(c2 == masked(crc32c(bytes.data() + at + 12, n)));
        at += 12 + n + 4;
        records++;
    }
    CHECK(records == 3);
    CHECK(bytes.find("brain.Event:2") != std::string::npos);
    CHECK(bytes.find("rsum") != std::string::npos);
    CHECK_THROWS_WITH(EventFile(dir + "/no/such/folder"), doctest::Contains("cannot open the TensorBoard event file"));
}
