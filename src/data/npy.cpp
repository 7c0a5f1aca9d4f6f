#include "npy.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vsd {

static const char* kNpyHint = "check the file with tools/npy_inspect, or re-create it";

const char* npy_type_name(NpyType t) {
    switch (t) {
        case NpyType::F4: return "float32";
        case NpyType::F8: return "float64";
        case NpyType::F2: return "float16";
        case NpyType::I4: return "int32";
        case NpyType::I8: return "int64";
        case NpyType::U1: return "uint8";
        case NpyType::B1: return "bool";
    }
    return "?";
}

size_t npy_type_size(NpyType t) {
    switch (t) {
        case NpyType::F8: case NpyType::I8: return 8;
        case NpyType::F4: case NpyType::I4: return 4;
        case NpyType::F2: return 2;
        default: return 1;
    }
}

// ---------------------------------------------------------------------------------------------
struct MappedFile {
    void* base = nullptr;
    size_t size = 0;
    ~MappedFile() {
        if (base && size) munmap(base, size);
    }
};

static std::shared_ptr<MappedFile> map_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    ENSURE_HINT(fd >= 0, "check the path (and --data_path)", "%s: cannot open: %s", path.c_str(), std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        FATAL("%s: not a regular file", path.c_str());
    }
    auto m = std::make_shared<MappedFile>();
    m->size = (size_t)st.st_size;
    if (m->size) {
        m->base = mmap(nullptr, m->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m->base == MAP_FAILED) {
            m->base = nullptr;
            int e = errno;
            ::close(fd);
            FATAL("%s: mmap failed: %s", path.c_str(), std::strerror(e));
        }
    }
    ::close(fd);
    return m;
}

// ---------------------------------------------------------------------------------------------
// Header dict parser: just enough Python literal syntax for numpy's headers, strict otherwise.
namespace {
struct HeaderParser {
    const std::string& path;
    const std::string& s;
    size_t i = 0;
    void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++; }
    [[noreturn]] void fail(const char* what) {
        FATAL("%s: malformed .npy header (%s at byte %zu of the header dict: \"%s\"). HINT: %s", path.c_str(), what,
              i, s.substr(0, 120).c_str(), kNpyHint);
    }
    void expect(char c) {
        ws();
        if (i >= s.size() || s[i] != c) fail(("expected '" + std::string(1, c) + "'").c_str());
        i++;
    }
    std::string str() {
        ws();
        if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail("expected a quoted string");
        char q = s[i++];
        size_t start = i;
        while (i < s.size() && s[i] != q) i++;
        if (i >= s.size()) fail("unterminated string");
        return s.substr(start, i++ - start);
    }
    bool boolean() {
        ws();
        if (s.compare(i, 4, "True") == 0) { i += 4; return true; }
        if (s.compare(i, 5, "False") == 0) { i += 5; return false; }
        fail("expected True or False");
    }
    std::vector<int64_t> tuple() {
        expect('(');
        std::vector<int64_t> dims;
        for (;;) {
            ws();
            if (i < s.size() && s[i] == ')') { i++; break; }
            if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("expected a dimension");
            int64_t v = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                if (v > (INT64_MAX - 9) / 10) fail("dimension too large");
                v = v * 10 + (s[i++] - '0');
            }
            if (i < s.size() && s[i] == 'L') i++;  // Python 2 long suffix in old files
            dims.push_back(v);
            ws();
            if (i < s.size() && s[i] == ',') { i++; continue; }
            expect(')');
            break;
        }
        return dims;
    }
};
}  // namespace

static NpyType parse_descr(const std::string& path, const std::string& d) {
    // byte order: '<' little, '|' not applicable (1-byte types), '=' native (little on our targets)
    ENSURE_HINT(!d.empty() && d[0] != '>', "convert it with numpy: np.save(f, a.astype(a.dtype.newbyteorder('<')))",
                "%s: big-endian dtype '%s' is not supported", path.c_str(), d.c_str());
    std::string t = (d[0] == '<' || d[0] == '|' || d[0] == '=') ? d.substr(1) : d;
    if (t == "f4") return NpyType::F4;
    if (t == "f8") return NpyType::F8;
    if (t == "f2") return NpyType::F2;
    if (t == "i4") return NpyType::I4;
    if (t == "i8") return NpyType::I8;
    if (t == "u1") return NpyType::U1;
    if (t == "b1") return NpyType::B1;
    FATAL("%s: unsupported dtype '%s' (expected one of <f4 <f8 <f2 <i4 <i8 <u1 |b1). HINT: convert it with numpy "
          "(a.astype(np.float32))", path.c_str(), d.c_str());
}

// The header's fields, checked for form only (the dtype and the size are the callers' business).
struct HeaderFields {
    std::string descr;
    bool fortran = false;
    std::vector<int64_t> shape;
    int major = 1;
    size_t data_offset = 0;
};
static HeaderFields parse_header_fields(const std::string& path, const unsigned char* b, size_t size) {
    HeaderFields out;
    ENSURE_HINT(size >= 10, kNpyHint, "%s: not a .npy file (only %zu bytes; a header needs at least 10)", path.c_str(),
                size);
    ENSURE_HINT(std::memcmp(b, "\x93NUMPY", 6) == 0, kNpyHint,
                "%s: not a .npy file (expected the magic \\x93NUMPY, found bytes %02x %02x %02x %02x %02x %02x)",
                path.c_str(), b[0], b[1], b[2], b[3], b[4], b[5]);
    const int major = b[6];
    ENSURE_HINT(major >= 1 && major <= 3, kNpyHint, "%s: .npy format version %d.%d is not supported (expected 1.0, 2.0 "
                "or 3.0)", path.c_str(), major, b[7]);
    size_t hlen, pre;
    if (major == 1) {
        hlen = b[8] | (b[9] << 8);
        pre = 10;
    } else {
        ENSURE_HINT(size >= 12, kNpyHint, "%s: truncated .npy header (%zu bytes)", path.c_str(), size);
        hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
        pre = 12;
    }
    ENSURE_HINT(pre + hlen <= size, kNpyHint, "%s: truncated .npy header (it declares %zu bytes, the file has %zu)",
                path.c_str(), hlen, size - pre);
    std::string h((const char*)b + pre, hlen);
    // version 1.0/2.0 headers are latin-1 ASCII, 3.0 may be UTF-8; our parser only needs ASCII keys

    HeaderParser p{path, h};
    bool have_descr = false, have_order = false, have_shape = false;
    std::string& descr = out.descr;
    bool& fortran = out.fortran;
    p.expect('{');
    for (;;) {
        p.ws();
        if (p.i < h.size() && h[p.i] == '}') { p.i++; break; }
        std::string key = p.str();
        p.expect(':');
        if (key == "descr") { descr = p.str(); have_descr = true; }
        else if (key == "fortran_order") { fortran = p.boolean(); have_order = true; }
        else if (key == "shape") { out.shape = p.tuple(); have_shape = true; }
        else p.fail(("unknown key '" + key + "'").c_str());
        p.ws();
        if (p.i < h.size() && h[p.i] == ',') { p.i++; continue; }
        p.expect('}');
        break;
    }
    ENSURE_HINT(have_descr && have_order && have_shape, kNpyHint,
                "%s: .npy header lacks one of 'descr', 'fortran_order', 'shape': \"%s\"", path.c_str(), h.c_str());
    out.major = major;
    out.data_offset = pre + hlen;
    return out;
}

void npy_parse_header(const std::string& path, const unsigned char* b, size_t size, NpyArray& out) {
    out.path = path;
    const HeaderFields hf = parse_header_fields(path, b, size);
    const bool fortran = hf.fortran;
    const std::string& descr = hf.descr;
    const int major = hf.major;
    out.shape = hf.shape;
    ENSURE_HINT(!fortran, "save it in C order: np.save(f, np.ascontiguousarray(a))",
                "%s: Fortran-order arrays are not supported (expected fortran_order False)", path.c_str());
    ENSURE_HINT(descr != "|O", "load it with eval --ensemble (the reference's saved similarities), or save a plain array",
                "%s: an object array (a pickle; np.save of a dict or of Python objects), not numbers", path.c_str());
    out.type = parse_descr(path, descr);
    out.version_major = major;
    out.data_offset = hf.data_offset;
    // size check, overflow-safe
    const int64_t bytes = checked_bytes(out.shape, (int64_t)npy_type_size(out.type), path + ": .npy shape " + out.shape_str());
    const size_t have = size - out.data_offset;
    ENSURE_HINT((uint64_t)bytes == (uint64_t)have, "the file is truncated or its header is wrong; re-create it",
                "%s: header says shape %s %s = %lld bytes of data, but the file has %zu bytes after the header",
                path.c_str(), out.shape_str().c_str(), npy_type_name(out.type), (long long)bytes, have);
}

size_t npy_pickle_offset(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return 0;
    std::string head(1 << 16, '\0');
    f.read(&head[0], (std::streamsize)head.size());
    head.resize((size_t)f.gcount());
    if (head.size() < 10 || head.compare(0, 6, "\x93NUMPY") != 0) return 0;
    const HeaderFields hf = parse_header_fields(path, (const unsigned char*)head.data(), head.size());
    return hf.descr == "|O" ? hf.data_offset : 0;
}

NpyArray npy_open(const std::string& path) {
    NpyArray a;
    a.file = map_file(path);
    npy_parse_header(path, (const unsigned char*)a.file->base, a.file->size, a);
    return a;
}

// ---------------------------------------------------------------------------------------------
int64_t NpyArray::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

int64_t NpyArray::row_numel() const {
    int64_t n = 1;
    for (size_t k = 1; k < shape.size(); k++) n *= shape[k];
    return n;
}

std::string NpyArray::shape_str() const { return vsd::shape_str(Shape(shape.begin(), shape.end())); }

const void* NpyArray::row_ptr(int64_t r) const {
    return (const char*)file->base + data_offset + (size_t)r * row_numel() * npy_type_size(type);
}

// IEEE half -> float, by hand (subnormals, inf and NaN included)
float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {  // subnormal: normalise
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

static double element(const void* base, NpyType t, int64_t i) {
    const unsigned char* p = (const unsigned char*)base + (size_t)i * npy_type_size(t);
    switch (t) {
        case NpyType::F4: { float v; std::memcpy(&v, p, 4); return v; }
        case NpyType::F8: { double v; std::memcpy(&v, p, 8); return v; }
        case NpyType::F2: { uint16_t v; std::memcpy(&v, p, 2); return half_to_float(v); }
        case NpyType::I4: { int32_t v; std::memcpy(&v, p, 4); return v; }
        case NpyType::I8: { int64_t v; std::memcpy(&v, p, 8); return (double)v; }
        case NpyType::U1: return *p;
        case NpyType::B1: return *p ? 1.0 : 0.0;
    }
    return 0;
}

static int64_t load_i64(const void* base, int64_t i) {
    int64_t v;
    std::memcpy(&v, (const char*)base + (size_t)i * 8, 8);
    return v;
}

double NpyArray::at(int64_t i) const {
    ENSURE(i >= 0 && i < numel(), "%s: element %lld out of range (%lld elements)", path.c_str(), (long long)i,
           (long long)numel());
    return element((const char*)file->base + data_offset, type, i);
}

Tensor NpyArray::rows_tensor(int64_t row0, int64_t nrows, DType want) const {
    ENSURE(row0 >= 0 && nrows >= 0 && row0 + nrows <= rows(), "%s: rows [%lld, %lld) out of range for shape %s",
           path.c_str(), (long long)row0, (long long)(row0 + nrows), shape_str().c_str());
    ENSURE(shape.size() <= 4, "%s: %zu-d arrays cannot become tensors (at most 4 dims)", path.c_str(), shape.size());
    Shape s(shape.begin(), shape.end());
    if (s.empty()) s = {};
    else s[0] = nrows;
    const bool is_int = type == NpyType::I4 || type == NpyType::I8;
    ENSURE(want == DType::F32 || is_int || type == NpyType::U1 || type == NpyType::B1,
           "%s: %s data cannot be loaded as %s", path.c_str(), npy_type_name(type), dtype_name(want));
    Tensor t = Tensor::empty(s, want);
    const int64_t n = shape_numel(s);
    const void* src = row_ptr(row0);
    if (want == DType::F32 && type == NpyType::F4) {
        if (n) std::memcpy(t.data(), src, n * 4);  // the common case: a straight copy
    } else {
        for (int64_t i = 0; i < n; i++) {
            double v = element(src, type, i);
            if (want == DType::F32) t.data()[i] = (float)v;
            else if (want == DType::I32) t.i32()[i] = (int32_t)v;
            else t.i64()[i] = type == NpyType::I8 ? load_i64(src, i) : (int64_t)v;  // int64 exactly, not via double
        }
    }
    return t;
}

Tensor npy_load(const std::string& path, DType want) { return npy_open(path).to_tensor(want); }

// ---------------------------------------------------------------------------------------------
void make_dirs(const std::string& p) {
    std::string cur;
    for (size_t i = 0; i <= p.size(); i++) {
        if ((i == p.size() || p[i] == '/') && !cur.empty()) mkdir(cur.c_str(), 0755);
        if (i < p.size()) cur += p[i];
    }
    struct stat st;
    ENSURE_HINT(stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "check the path and its permissions",
                "%s: cannot create the folder", p.c_str());
}

// A writer killed between open and rename (kill -9, power loss) leaves `<path>.tmp.<pid>` behind. The next
// write of the same path removes those whose process no longer exists; a live writer's file is left alone.
static void remove_stale_temporaries(const std::string& path) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.compare(0, prefix.size(), prefix) != 0 || name.size() == prefix.size() || name.size() > prefix.size() + 10)
            continue;
        long long pid = 0;
        bool digits = true;
        for (size_t i = prefix.size(); i < name.size(); i++) {
            if (name[i] < '0' || name[i] > '9') digits = false;
            else pid = pid * 10 + (name[i] - '0');
        }
        if (!digits || pid <= 0 || pid == (long long)getpid()) continue;
        if (pid > 0x7fffffffLL || (::kill((pid_t)pid, 0) != 0 && errno == ESRCH)) ::unlink((dir + "/" + name).c_str());
    }
    ::closedir(d);
}

std::string read_file(const std::string& path, const char* what, const char* hint) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), hint, "%s: cannot open %s", path.c_str(), what);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    remove_stale_temporaries(path);
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ENSURE_HINT(fd >= 0, "check that the folder exists and is writable", "%s: cannot create: %s", tmp.c_str(),
                std::strerror(errno));
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            FATAL("%s: write failed: %s. HINT: is the disk full?", path.c_str(), std::strerror(e));
        }
        off += (size_t)w;
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        FATAL("%s: fsync/close failed: %s", path.c_str(), std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        FATAL("%s: rename from %s failed: %s", path.c_str(), tmp.c_str(), std::strerror(e));
    }
    // the rename itself is durable only once the folder's entry is on disk
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void npy_save_raw(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
                  const void* data, size_t nbytes, int version_major) {
    std::string dims;  // Python tuple syntax: "()", "(5,)", "(2, 3)"
    for (size_t k = 0; k < shape.size(); k++) dims += (k ? ", " : "") + std::to_string(shape[k]);
    if (shape.size() == 1) dims += ",";
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const size_t pre = version_major == 1 ? 10 : 12;
    size_t total = pre + dict.size() + 1;
    size_t pad = (64 - total % 64) % 64;
    dict += std::string(pad, ' ') + "\n";
    std::string out = std::string("\x93NUMPY", 6);
    out += (char)version_major;
    out += (char)0;
    size_t hl = dict.size();
    out += (char)(hl & 0xff);
    out += (char)((hl >> 8) & 0xff);
    if (version_major != 1) {
        out += (char)((hl >> 16) & 0xff);
        out += (char)((hl >> 24) & 0xff);
    } else {
        ENSURE(hl < 65536, "npy header too long for version 1.0");
    }
    out += dict;
    out.append((const char*)data, nbytes);
    write_file_atomic(path, out);
}

void npy_save(const std::string& path, const Tensor& t) {
    ENSURE(!t.is_cuda(), "npy_save: copy the tensor to the CPU first");
    std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
    const char* descr = t.dtype() == DType::F32 ? "<f4" : t.dtype() == DType::I32 ? "<i4" : "<i8";
    npy_save_raw(path, descr, shape, t.raw(), t.numel() * dtype_size(t.dtype()));
}

}  // namespace vsd
