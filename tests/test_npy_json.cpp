// .npy and JSON: real files, numpy-written fixtures, round trips, bad input, seeded fuzzing.
#include <fstream>
#include <sstream>

#include "../src/data/json.h"
#include "../src/data/npy.h"
#include "../src/data/safetensors.h"
#include "helpers.h"

static std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
static void spit(const std::string& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary);
    f << bytes;
}

static const char* kCentroids = "proto/f30k_minicpm_kmeans_centroids_896.npy";

TEST_CASE("npy: the real VSD centroid file (written by numpy)" * doctest::skip(shared_absent(kCentroids))) {
    NpyArray a = npy_open(shared_data(kCentroids));
    CHECK(a.type == NpyType::F4);
    CHECK(a.shape == std::vector<int64_t>{896, 1024});
    CHECK(a.version_major == 1);
    Tensor t = a.to_tensor();
    CHECK(t.shape() == Shape{896, 1024});
    // spot values read independently with numpy (np.load(...)[i, j])
    CHECK(t.data()[0] == -0.013797033578157425f);
    CHECK(t.data()[1023] == -0.03433537855744362f);
    CHECK(t.data()[447 * 1024 + 512] == -0.022530127316713333f);
    CHECK(t.data()[895 * 1024] == -0.026105716824531555f);
    CHECK(t.data()[895 * 1024 + 1023] == -0.0018447154434397817f);
    double s = 0, n0 = 0;
    for (int64_t i = 0; i < t.numel(); i++) s += t.data()[i];
    for (int k = 0; k < 1024; k++) n0 += (double)t.data()[k] * t.data()[k];
    CHECK(s == doctest::Approx(-130.04252247865787).epsilon(1e-9));  // numpy: a.astype(float64).sum()
    CHECK(std::sqrt(n0) == doctest::Approx(0.8490118760310255).epsilon(1e-7));
    // a row range without reading the rest
    Tensor r = a.rows_tensor(895, 1, DType::F32);
    CHECK(r.shape() == Shape{1, 1024});
    CHECK(r.data()[0] == t.data()[895 * 1024]);
}

TEST_CASE("npy: every supported dtype and version, from numpy-written files") {
    // f8/f4/f2/v2/v3 hold 0.5 * k - 3 for k = 0..23 in shape (2, 3, 4)
    for (const char* f : {"f8.npy", "f4.npy", "f2.npy", "v2.npy", "v3.npy"}) {
        CAPTURE(f);
        Tensor t = npy_load(fixture(std::string("npy/") + f));
        CHECK(t.shape() == Shape{2, 3, 4});
        bool ok = true;
        for (int k = 0; k < 24; k++) ok = ok && t.data()[k] == 0.5f * k - 3.0f;
        CHECK(ok);
    }
    CHECK(npy_open(fixture("npy/v2.npy")).version_major == 2);
    CHECK(npy_open(fixture("npy/v3.npy")).version_major == 3);
    Tensor i4 = npy_load(fixture("npy/i4.npy"), DType::I64);
    CHECK(i4.to_vector() == std::vector<float>{-2, -1, 0, 1, 2, 3});
    Tensor i8 = npy_load(fixture("npy/i8.npy"), DType::I64);
    CHECK(i8.i64()[0] == (int64_t(1) << 40) + 1);  // exact: not routed through float
    CHECK(i8.i64()[1] == -5);
    CHECK(npy_load(fixture("npy/i4.npy")).data()[0] == -2.0f);  // integers to float on request
    CHECK(npy_load(fixture("npy/u1.npy")).to_vector() == std::vector<float>{0, 1, 255});
    CHECK(npy_load(fixture("npy/b1.npy")).to_vector() == std::vector<float>{1, 0, 1});
    Tensor sc = npy_load(fixture("npy/scalar.npy"));
    CHECK(sc.shape() == Shape{});
    CHECK(sc.item() == 3.25f);
    CHECK(npy_load(fixture("npy/empty.npy")).shape() == Shape{0, 5});
    std::vector<float> sp = npy_load(fixture("npy/f2_special.npy")).to_vector();
    CHECK(sp[0] == 5.9604645e-08f);  // the smallest float16 subnormal, as numpy converts it
    CHECK(std::isinf(sp[1]));
    CHECK((sp[2] == 0.0f && std::signbit(sp[2])));
    CHECK(std::isnan(sp[3]));
    CHECK(sp[4] == 65504.0f);
}

TEST_CASE("npy: unsupported layouts are clear errors") {
    CHECK_THROWS_WITH(npy_open(fixture("npy/fortran.npy")), doctest::Contains("Fortran-order arrays are not supported"));
    CHECK_THROWS_WITH(npy_open(fixture("npy/bigendian.npy")), doctest::Contains("big-endian dtype '>f4'"));
    CHECK_THROWS_WITH(npy_load(fixture("npy/f8.npy"), DType::I64), doctest::Contains("float64 data cannot be loaded as int64"));
    CHECK_THROWS_WITH(npy_open("/nonexistent/x.npy"), doctest::Contains("/nonexistent/x.npy: cannot open"));
}

TEST_CASE("npy: save/load round trip, atomic write, every dtype we write") {
    std::string d = temp_dir("npy");
    Rng rng(1);
    Tensor f = Tensor::randn({3, 4, 5}, rng);
    npy_save(d + "/f.npy", f);
    CHECK(npy_load(d + "/f.npy").to_vector() == f.to_vector());
    Tensor i = Tensor::from_i64({4}, {-1, 0, int64_t(1) << 50, 7});
    npy_save(d + "/i.npy", i);
    CHECK(npy_load(d + "/i.npy", DType::I64).i64()[2] == int64_t(1) << 50);
    Tensor j = Tensor::from_i32({2}, {5, -6});
    npy_save(d + "/j.npy", j);
    CHECK(npy_open(d + "/j.npy").type == NpyType::I4);
    npy_save(d + "/s.npy", Tensor::from({5}, {1, 2, 3, 4, 5}));
    std::string bytes = slurp(d + "/s.npy");
    CHECK(bytes.find("'shape': (5,)") != std::string::npos);  // Python tuple syntax for 1-d
    CHECK((bytes.size() - 20) % 64 == 0);                     // data starts on a 64-byte boundary
    for (int v : {2, 3}) {
        float data[2] = {1.5f, -2.0f};
        npy_save_raw(d + "/v.npy", "<f4", {2}, data, sizeof data, v);
        CHECK(npy_open(d + "/v.npy").version_major == v);
        CHECK(npy_load(d + "/v.npy").to_vector() == std::vector<float>{1.5f, -2.0f});
    }
    // no temporary file is left behind
    CHECK(std::system(("ls " + d + " | grep -q tmp").c_str()) != 0);
    CHECK_THROWS_WITH(npy_save("/nonexistent_dir/x.npy", f), doctest::Contains("cannot create"));
}

TEST_CASE("npy: truncated files, wrong magic and lying headers are rejected with the numbers") {
    std::string d = temp_dir("npybad");
    std::string good = slurp(fixture("npy/f4.npy"));
    spit(d + "/trunc.npy", good.substr(0, good.size() - 4));
    CHECK_THROWS_WITH(npy_open(d + "/trunc.npy"),
                      doctest::Contains("header says shape (2, 3, 4) float32 = 96 bytes of data, but the file has 92 bytes"));
    spit(d + "/magic.npy", "PK" + good.substr(2));
    CHECK_THROWS_WITH(npy_open(d + "/magic.npy"), doctest::Contains("not a .npy file (expected the magic"));
    spit(d + "/short.npy", good.substr(0, 5));
    CHECK_THROWS_WITH(npy_open(d + "/short.npy"), doctest::Contains("only 5 bytes"));
    spit(d + "/hdr.npy", good.substr(0, 40));
    CHECK_THROWS_WITH(npy_open(d + "/hdr.npy"), doctest::Contains("truncated .npy header"));
    std::string lie = good;
    lie.replace(lie.find("(2, 3, 4)"), 9, "(2, 3, 5)");
    spit(d + "/lie.npy", lie);
    CHECK_THROWS_WITH(npy_open(d + "/lie.npy"), doctest::Contains("120 bytes of data, but the file has 96"));
    std::string dt = good;
    dt.replace(dt.find("<f4"), 3, "<c8");
    spit(d + "/dtype.npy", dt);
    CHECK_THROWS_WITH(npy_open(d + "/dtype.npy"), doctest::Contains("unsupported dtype '<c8'"));
    spit(d + "/empty.npy", "");
    CHECK_THROWS_WITH(npy_open(d + "/empty.npy"), doctest::Contains("not a .npy file"));
    // a shape whose byte count wraps around 2^64 (or 2^128) to the bytes present: refused, not accepted
    // (2^32 x 2^32 x 2^32 x 4 bytes = 2^98 = 0 mod 2^64)
    std::string wrap = good;
    wrap.replace(wrap.find("(2, 3, 4)"), 9, "(4294967296, 4294967296, 4294967296)");
    spit(d + "/wrap.npy", wrap.substr(0, wrap.find('\n') + 1));
    CHECK_THROWS_WITH(npy_open(d + "/wrap.npy"), doctest::Contains("a shape of more than 2^62 bytes"));
}

TEST_CASE("safetensors: shapes that overflow, overlapping offsets and duplicate names are errors") {
    const std::string d = temp_dir("sthostile");
    auto file = [&](const std::string& header, size_t body) {
        std::string h = header;
        std::string bytes(8, '\0');
        for (int k = 0; k < 8; k++) bytes[k] = (char)((h.size() >> (8 * k)) & 255);
        bytes += h + std::string(body, '\0');
        spit(d + "/x.safetensors", bytes);
        return d + "/x.safetensors";
    };
    CHECK_THROWS_WITH(safetensors_load(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4294967296], "
                                            "\"data_offsets\": [0, 0]}}", 0)),
                      doctest::Contains("a shape of more than 2^62 bytes"));
    CHECK_THROWS_WITH(safetensors_load(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1, -4], \"data_offsets\": [0, 16]}}", 16)),
                      doctest::Contains("a negative dimension"));
    CHECK_THROWS_WITH(safetensors_load(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                                            "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12)),
                      doctest::Contains("tensors a and b overlap"));
    CHECK_THROWS_WITH(safetensors_load(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
                                            "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8)),
                      doctest::Contains("\"a\" appears twice"));
    // and a good one still loads
    CHECK(safetensors_load(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                                "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12)).tensors.size() == 2);
}

// Seeded random-mutation fuzzing: flip, insert, delete and truncate bytes of real headers.
// Every outcome must be a parse or a vsd::Error; a crash fails the whole run (and ASan in SAN=1).
template <class Parse>
static void fuzz(const std::vector<std::string>& seeds, int iterations, uint64_t seed, Parse parse, int* accepted) {
    Rng rng(seed);
    const char interesting[] = "{}[]():,'\"0123456789-eE.\\u \x93NUMPYtruefalsenull<f4|b1";
    for (int it = 0; it < iterations; it++) {
        std::string s = seeds[rng.randint(seeds.size())];
        int edits = 1 + (int)rng.randint(4);
        for (int e = 0; e < edits && !s.empty(); e++) {
            size_t pos = rng.randint(s.size());
            switch (rng.randint(5)) {
                case 0: s[pos] = (char)rng.randint(256); break;
                case 1: s[pos] = interesting[rng.randint(sizeof interesting - 1)]; break;
                case 2: s.insert(pos, 1, interesting[rng.randint(sizeof interesting - 1)]); break;
                case 3: s.erase(pos, 1 + rng.randint(3)); break;
                case 4: s.resize(pos); break;
            }
        }
        try {
            parse(s);
            (*accepted)++;
        } catch (const vsd::Error&) {
        }
    }
}

TEST_CASE("fuzz: .npy header parser survives 20000 mutated headers") {
    std::vector<std::string> seeds;
    for (const char* f : {"f4.npy", "v2.npy", "v3.npy", "scalar.npy", "i8.npy", "empty.npy"})
        seeds.push_back(slurp(fixture(std::string("npy/") + f)));
    int accepted = 0;
    fuzz(seeds, 20000, 42, [](const std::string& s) {
        NpyArray a;
        npy_parse_header("fuzz.npy", (const unsigned char*)s.data(), s.size(), a);
        if (a.numel() > 0) (void)a.data_offset;
    }, &accepted);
    CHECK(accepted > 0);       // some mutations are harmless (e.g. in the padding)
    CHECK(accepted < 20000);   // and most are caught
}

TEST_CASE("json: values, nesting, escapes, order, integers") {
    Json j = Json::parse(R"({"b": [1, 2.5, -3e2, true, false, null], "a": {"x": "h\u00e9\n\ud83d\ude00"}, "n": 9007199254740993})");
    CHECK(j.is_object());
    CHECK(j.members()[0].first == "b");  // file order kept
    CHECK(j["b"].size() == 6);
    CHECK(j["b"][0].as_int() == 1);
    CHECK(j["b"][1].as_double() == 2.5);
    CHECK(j["b"][2].as_double() == -300.0);
    CHECK(j["b"][3].as_bool());
    CHECK(j["b"][5].is_null());
    CHECK(j["a"]["x"].as_string() == "h\xc3\xa9\n\xf0\x9f\x98\x80");  // é, newline, U+1F600 from a surrogate pair
    CHECK(j["n"].as_int() == 9007199254740993LL);                       // beyond 2^53: exact
    CHECK(Json::parse("  [ ]  ").size() == 0);
    CHECK(Json::parse("\"x\"").as_string() == "x");
    // a key twice is an error naming it (parsers disagree on which one would win)
    CHECK_THROWS_WITH(Json::parse(R"({"k": 1, "k": 2})"), doctest::Contains("\"k\" appears twice"));
    // a number beyond a double is not infinity; a string must be valid UTF-8
    CHECK_THROWS_WITH(Json::parse("[1e999]"), doctest::Contains("<json>:1:2: invalid JSON: expected a number within the range of a double"));
    CHECK_THROWS_WITH(Json::parse("[\"caf\xe9\"]"), doctest::Contains("expected valid UTF-8 in strings (byte 0xe9 at offset 3"));
    CHECK(Json::parse("[\"caf\xc3\xa9\", 1e300]")[0].as_string() == "caf\xc3\xa9");
    CHECK(json_quote("a\"b\\\n\x01") == "\"a\\\"b\\\\\\n\\u0001\"");
    CHECK(Json::parse(json_quote("tab\there"))
              .as_string() == "tab\there");  // quote/parse round trip
}

TEST_CASE("json: malformed input gives line:column and what was expected") {
    CHECK_THROWS_WITH(Json::parse("{\"a\": 1,\n \"b\" 2}", "cfg.json"), doctest::Contains("cfg.json:2:6: invalid JSON: expected ':'"));
    CHECK_THROWS_WITH(Json::parse("[1, 2"), doctest::Contains("expected ',' or ']', found end of input"));
    CHECK_THROWS_WITH(Json::parse("{\"a\": tru}"), doctest::Contains("expected a value"));
    CHECK_THROWS_WITH(Json::parse("[01]"), doctest::Contains("expected ',' or ']'"));
    CHECK_THROWS_WITH(Json::parse("\"\\ud800x\""), doctest::Contains("low surrogate"));
    CHECK_THROWS_WITH(Json::parse("[1] x"), doctest::Contains("end of input after the value"));
    CHECK_THROWS_WITH(Json::parse(std::string(600, '[')), doctest::Contains("nesting at most 512 deep"));
    CHECK_THROWS_WITH(Json::parse("{\"a\": 1}")["b"], doctest::Contains("missing key \"b\""));
    CHECK_THROWS_WITH(Json::parse("{\"a\": 1.5}", "c.json")["a"].as_int("a"), doctest::Contains("c.json: a must be an integer, found a number"));
    CHECK_THROWS_WITH(Json::parse_file("/nonexistent.json"), doctest::Contains("/nonexistent.json: cannot open"));
}

static const char* kVocab = "vocab/f30k_precomp_vocab.json";

TEST_CASE("json: real files: SCAN vocab and id_mapping" * doctest::skip(shared_absent(kVocab))) {
    Json v = Json::parse_file(shared_data(kVocab));
    CHECK(v["idx"].as_int() == 8481);
    CHECK(v["word2idx"].size() == 8481);
    CHECK(v["idx2word"]["0"].as_string() == "<pad>");
    CHECK(v["word2idx"]["raining"].as_int() == 4);
    if (file_exists(shared_data("f30k/id_mapping.json"))) {
        Json m = Json::parse_file(shared_data("f30k/id_mapping.json"));
        CHECK(m.size() == 31014);
        CHECK(m["0"].as_string() == "1000092795.jpg");
        CHECK(m["31013"].as_string() == "998845445.jpg");
    }
}

TEST_CASE("fuzz: JSON parser survives 20000 mutated documents") {
    std::vector<std::string> seeds = {
        R"({"idx2word": {"0": "<pad>", "1": "<start>"}, "word2idx": {"<pad>": 0}, "idx": 2})",
        R"({"hidden_size": 384, "layer_norm_eps": 1e-12, "architectures": ["BertModel"], "x": null, "t": true})",
        R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})",
        R"(["a\u00e9\ud83d\ude00", -0.5e-3, [[[]]], {}])"};
    int accepted = 0;
    fuzz(seeds, 20000, 7, [](const std::string& s) { Json::parse(s); }, &accepted);
    CHECK(accepted > 0);
    CHECK(accepted < 20000);
}
