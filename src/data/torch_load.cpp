#include "torch_load.h"

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "npy.h"        // half_to_float
#include "tokenizer.h"  // utf8_decode

namespace vsd {

namespace {

// ---- ZIP: the central directory, stored entries only ------------------------------------------
struct Zip {
    std::string path, data;
    std::map<std::string, std::pair<size_t, size_t>> entries;  // name -> (offset of data, size)

    static uint32_t u32(const std::string& s, size_t o) {
        return (uint32_t)(unsigned char)s[o] | ((uint32_t)(unsigned char)s[o + 1] << 8) |
               ((uint32_t)(unsigned char)s[o + 2] << 16) | ((uint32_t)(unsigned char)s[o + 3] << 24);
    }
    // does [offset, offset + n) lie inside the file? (no wrap-around for hostile 64-bit values)
    bool fits(uint64_t offset, uint64_t n) const { return offset <= data.size() && n <= data.size() - offset; }
    static uint16_t u16(const std::string& s, size_t o) {
        return (uint16_t)((unsigned char)s[o] | ((unsigned char)s[o + 1] << 8));
    }
    // the bytes of a file that is not an archive (a .npy object array's pickle): no entries
    Zip(const std::string& p, std::string bytes) : path(p), data(std::move(bytes)) {}
    explicit Zip(const std::string& p) : path(p) {
        std::ifstream f(p, std::ios::binary);
        ENSURE_HINT(f.good(), "check the checkpoint path", "%s: cannot open", p.c_str());
        std::stringstream ss;
        ss << f.rdbuf();
        data = ss.str();
        const char* hint = "the file is truncated or is not a torch.save zip checkpoint; re-save it with torch >= 1.6";
        ENSURE_HINT(data.size() >= 22, hint, "%s: too short for a zip archive (%zu bytes)", p.c_str(), data.size());
        // the end-of-central-directory record: signature 0x06054b50 within the last 64 KiB
        size_t eocd = std::string::npos;
        for (size_t i = data.size() - 22 + 1; i-- > 0 && data.size() - i <= 65557;)
            if (u32(data, i) == 0x06054b50) { eocd = i; break; }
        ENSURE_HINT(eocd != std::string::npos, hint, "%s: no zip end-of-central-directory record", p.c_str());
        uint64_t count = u16(data, eocd + 10), cd = u32(data, eocd + 16);
        if (cd == 0xffffffffu || count == 0xffff) {  // zip64: the locator sits right before the EOCD
            ENSURE_HINT(eocd >= 20 && u32(data, eocd - 20) == 0x07064b50, hint, "%s: broken zip64 locator", p.c_str());
            uint64_t z64 = (uint64_t)u32(data, eocd - 12) | ((uint64_t)u32(data, eocd - 8) << 32);
            ENSURE_HINT(fits(z64, 56) && u32(data, z64) == 0x06064b50, hint, "%s: broken zip64 record at offset %llu",
                        p.c_str(), (unsigned long long)z64);
            count = (uint64_t)u32(data, z64 + 32) | ((uint64_t)u32(data, z64 + 36) << 32);
            cd = (uint64_t)u32(data, z64 + 48) | ((uint64_t)u32(data, z64 + 52) << 32);
        }
        uint64_t o = cd;
        for (uint64_t e = 0; e < count; e++) {
            ENSURE_HINT(fits(o, 46) && u32(data, o) == 0x02014b50, hint, "%s: broken zip central directory at offset %llu",
                        p.c_str(), (unsigned long long)o);
            const uint16_t method = u16(data, o + 10), nlen = u16(data, o + 28), xlen = u16(data, o + 30), clen = u16(data, o + 32);
            uint64_t csize = u32(data, o + 20), local = u32(data, o + 42);
            ENSURE_HINT(fits(o, 46 + (uint64_t)nlen + xlen + clen), hint,
                        "%s: zip central directory entry at offset %llu runs past the end of the file", p.c_str(),
                        (unsigned long long)o);
            std::string name = data.substr(o + 46, nlen);
            // zip64 extra field: sizes/offset that did not fit in 32 bits; every read stays inside its field
            const uint64_t xend = o + 46 + nlen + xlen;
            for (uint64_t x = o + 46 + nlen; x + 4 <= xend;) {
                const uint16_t id = u16(data, x), sz = u16(data, x + 2);
                ENSURE_HINT(x + 4 + sz <= xend, hint, "%s: zip extra field of %s runs past its record", p.c_str(), name.c_str());
                if (id == 0x0001) {
                    uint64_t q = x + 4;
                    auto next = [&]() {
                        ENSURE_HINT(q + 8 <= x + 4 + sz, hint, "%s: zip64 field of %s is too short", p.c_str(), name.c_str());
                        const uint64_t v = (uint64_t)u32(data, q) | ((uint64_t)u32(data, q + 4) << 32);
                        q += 8;
                        return v;
                    };
                    if (u32(data, o + 24) == 0xffffffffu) next();  // uncompressed size
                    if (u32(data, o + 20) == 0xffffffffu) csize = next();
                    if (u32(data, o + 42) == 0xffffffffu) local = next();
                }
                x += 4 + sz;
            }
            ENSURE_HINT(method == 0, "re-save the checkpoint with torch.save (it stores entries uncompressed)",
                        "%s: zip entry %s is compressed (method %u); only stored entries are supported", p.c_str(),
                        name.c_str(), method);
            ENSURE_HINT(fits(local, 30) && u32(data, local) == 0x04034b50, hint, "%s: broken local header of %s",
                        p.c_str(), name.c_str());
            const uint64_t start = local + 30 + u16(data, local + 26) + u16(data, local + 28);
            ENSURE_HINT(fits(start, csize), hint, "%s: entry %s runs past the end of the file", p.c_str(), name.c_str());
            ENSURE_HINT(!entries.count(name), "the archive is not a torch.save checkpoint", "%s: zip entry %s appears twice",
                        p.c_str(), name.c_str());
            entries[name] = {(size_t)start, (size_t)csize};
            o += 46 + nlen + xlen + clen;
        }
    }
    // the name of the only entry ending in `suffix`, or "" (two are an error: which one is meant?)
    std::string find_suffix(const std::string& suffix) const {
        std::string found;
        for (const auto& [n, v] : entries)
            if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
                ENSURE_HINT(found.empty(), "save one state dict per file with torch.save", "%s: two entries end in %s: %s and %s",
                            path.c_str(), suffix.c_str(), found.c_str(), n.c_str());
                found = n;
            }
        return found;
    }
};

// ---- pickle values ----------------------------------------------------------------------------
struct Obj;
using P = std::shared_ptr<Obj>;
struct Obj {
    enum Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, TensorV, Mark, NdArray } kind = None;
    int64_t i = 0;
    double f = 0;
    std::string s;                         // Str, Bytes, Global ("module.name"), Storage dtype
    std::vector<P> items;                  // Tuple, List
    std::vector<std::pair<P, P>> dict;     // Dict (insertion order)
    Tensor tensor;                         // TensorV
    std::string key;                       // Storage: the data/<key> entry; a numpy dtype: its byte order
    std::vector<int64_t> shape;            // NdArray (its data: s for numbers, items for objects)
    P dtype;                               // NdArray: the numpy.dtype (a Str: 'f4', 'f8', 'O8', ...)
};
P mk(Obj::Kind k) { auto o = std::make_shared<Obj>(); o->kind = k; return o; }

const char* kAllowed[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
                          "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage",
                          "torch.IntStorage", "torch.DoubleStorage", "torch.ByteStorage", "torch.BoolStorage",
                          "argparse.Namespace", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
                          "numpy.dtype", "builtins.set", "torch.device", "_codecs.encode",
                          // numpy arrays inside a pickle (np.save of a dict: the reference's saved similarities)
                          "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray"};

struct Unpickler {
    const Zip& zip;
    std::string prefix;  // "<archive>/"
    const std::string& d;
    size_t i, end;       // the pickle is d[i, end): it may not read past its zip entry
    std::vector<P> stack;
    std::vector<size_t> marks;
    std::map<int64_t, P> memo;
    // limits: a state dict needs far less; a hostile pickle gets a clear error, not a crash or 6 GB
    static constexpr size_t kMaxStack = 1 << 20, kMaxMemo = 1 << 20;
    static constexpr int64_t kMaxTensorBytes = int64_t(1) << 36;  // 64 GiB: no real checkpoint tensor is larger

    Unpickler(const Zip& z, std::string pre, size_t start, size_t stop)
        : zip(z), prefix(std::move(pre)), d(z.data), i(start), end(stop) {}

    [[noreturn]] void fail(const std::string& why) {
        FATAL("%s: data.pkl at byte %zu: %s. HINT: only state dicts of tensors (torch.save(model.state_dict())) and "
              "the reference's checkpoints are read", zip.path.c_str(), i, why.c_str());
    }
    uint8_t byte() { if (i >= end) fail("truncated pickle"); return (uint8_t)d[i++]; }
    uint64_t le(int n) { uint64_t v = 0; for (int k = 0; k < n; k++) v |= (uint64_t)byte() << (8 * k); return v; }
    std::string take(size_t n) { if (i + n > end) fail("truncated pickle"); std::string s = d.substr(i, n); i += n; return s; }
    std::string line() { size_t e = d.find('\n', i); if (e == std::string::npos || e >= end) fail("truncated pickle"); std::string s = d.substr(i, e - i); i = e + 1; return s; }
    P pop() { if (stack.empty()) fail("stack underflow"); P p = stack.back(); stack.pop_back(); return p; }
    P& top() { if (stack.empty()) fail("stack underflow"); return stack.back(); }
    void push(P p) { if (stack.size() >= kMaxStack) fail("pickle stack deeper than 2^20"); stack.push_back(std::move(p)); }
    void memo_put(int64_t k) { if (memo.size() >= kMaxMemo) fail("pickle memo larger than 2^20"); memo[k] = top(); }
    P container(Obj::Kind k) {  // the object under construction (SETITEM, APPEND, ...) must be one
        P& c = top();
        if (c->kind != k) fail("a pickle operation on the wrong kind of object");
        return c;
    }
    std::vector<P> pop_mark() {
        if (marks.empty()) fail("no MARK");
        size_t m = marks.back();
        marks.pop_back();
        if (m > stack.size()) fail("MARK above the top of the stack");
        std::vector<P> v(stack.begin() + m, stack.end());
        stack.resize(m);
        return v;
    }
    P global(const std::string& mod, const std::string& name) {
        std::string full = mod + "." + name;
        bool ok = false;
        for (const char* a : kAllowed) ok = ok || full == a;
        if (!ok) fail("refusing the global " + full + " (not in the allow-list; nothing was executed)");
        P g = mk(Obj::Global);
        g->s = full;
        return g;
    }
    Tensor storage_tensor(const P& st, int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
        const auto* e = zip.entries.count(prefix + "data/" + st->key) ? &zip.entries.at(prefix + "data/" + st->key) : nullptr;
        if (!e) fail("missing storage entry data/" + st->key);
        const std::string& t = st->s;
        const size_t es = t == "torch.DoubleStorage" || t == "torch.LongStorage" ? 8
                        : t == "torch.HalfStorage" || t == "torch.BFloat16Storage" ? 2
                        : t == "torch.ByteStorage" || t == "torch.BoolStorage" ? 1 : 4;
        const char* base = zip.data.data() + e->first;
        const size_t avail = e->second / es;
        const bool is_int = t == "torch.LongStorage" || t == "torch.IntStorage";
        if (size.size() > 4) fail("a tensor with more than 4 dims");
        if (stride.size() != size.size()) fail(strfmt("a tensor with %zu sizes but %zu strides", size.size(), stride.size()));
        // every size, stride and the farthest element are checked against the storage before allocating
        int64_t n = 1, last = offset;
        if (offset < 0) fail("a negative storage offset");
        for (size_t dd = 0; dd < size.size(); dd++) {
            if (size[dd] < 0 || stride[dd] < 0) fail("a negative size or stride");
            if (size[dd] != 0 && n > kMaxTensorBytes / 8 / size[dd]) fail("a tensor larger than 64 GiB");
            n *= size[dd];
        }
        for (size_t dd = 0; dd < size.size() && n > 0; dd++) {
            if (stride[dd] != 0 && (size[dd] - 1) > (kMaxTensorBytes - last) / stride[dd]) fail("tensor data outside its storage " + st->key);
            last += (size[dd] - 1) * stride[dd];
        }
        if (n > 0 && (size_t)last >= avail) fail("tensor data outside its storage " + st->key);
        Tensor out = Tensor::empty(Shape(size.begin(), size.end()), is_int ? DType::I64 : DType::F32);
        std::vector<int64_t> idx(size.size(), 0);
        for (int64_t k = 0; k < n; k++) {  // walk the logical index; the storage position follows the strides
            int64_t pos = offset;
            for (size_t dd = 0; dd < size.size(); dd++) pos += idx[dd] * stride[dd];
            if (pos < 0 || (size_t)pos >= avail) fail("tensor data outside its storage " + st->key);
            const char* src = base + pos * es;
            if (is_int) out.i64()[k] = es == 8 ? (int64_t)le_at(src, 8) : (int64_t)(int32_t)le_at(src, 4);
            else if (t == "torch.FloatStorage") { float v; std::memcpy(&v, src, 4); out.data()[k] = v; }
            else if (t == "torch.DoubleStorage") { double v; std::memcpy(&v, src, 8); out.data()[k] = (float)v; }
            else if (t == "torch.HalfStorage") out.data()[k] = half_to_float((uint16_t)le_at(src, 2));
            else if (t == "torch.BFloat16Storage") { uint32_t b = (uint32_t)le_at(src, 2) << 16; float v; std::memcpy(&v, &b, 4); out.data()[k] = v; }
            else out.data()[k] = (float)(unsigned char)*src;
            for (int dd = (int)size.size() - 1; dd >= 0; dd--) {
                if (++idx[dd] < size[dd]) break;
                idx[dd] = 0;
            }
        }
        return out;
    }
    static uint64_t le_at(const char* p, int n) { uint64_t v = 0; for (int k = 0; k < n; k++) v |= (uint64_t)(unsigned char)p[k] << (8 * k); return v; }
    std::vector<int64_t> ints(const P& t) {
        if (t->kind != Obj::Tuple) fail("expected a tuple of ints");
        std::vector<int64_t> v;
        for (const P& x : t->items) { if (x->kind != Obj::Int) fail("expected an int"); v.push_back(x->i); }
        return v;
    }
    // ndarray.__setstate__((version, shape, dtype, is_fortran, data)): data is the raw bytes of a
    // numeric array, or the list of an object array's items
    void build_ndarray(const P& a, const P& st) {
        if (st->kind != Obj::Tuple || st->items.size() != 5 || st->items[2]->kind != Obj::Str)
            fail("an ndarray state that is not (version, shape, dtype, fortran, data)");
        a->shape = ints(st->items[1]);
        a->dtype = st->items[2];
        if (st->items[3]->kind == Obj::Bool && st->items[3]->i) fail("a Fortran-order ndarray");
        const P& data = st->items[4];
        if (data->kind == Obj::Bytes) a->s = data->s;
        else if (data->kind == Obj::List) a->items = data->items;
        else fail("ndarray data that is neither bytes nor a list");
    }
    // a call: GLOBAL(args) via REDUCE or NEWOBJ
    P call(const P& fn, const P& args) {
        if (fn->kind != Obj::Global) fail("calling something that is not an allowed global");
        const std::string& g = fn->s;
        const auto& a = args->items;
        if (g == "collections.OrderedDict" || g == "argparse.Namespace" || g == "builtins.set") return mk(Obj::Dict);
        if (g == "torch._utils._rebuild_tensor_v2") {
            if (a.size() < 4 || a[0]->kind != Obj::Storage || a[1]->kind != Obj::Int) fail("unexpected _rebuild_tensor_v2 arguments");
            P t = mk(Obj::TensorV);
            t->tensor = storage_tensor(a[0], a[1]->i, ints(a[2]), ints(a[3]));
            return t;
        }
        if (g == "torch._utils._rebuild_parameter") {
            if (a.empty() || a[0]->kind != Obj::TensorV) fail("unexpected _rebuild_parameter arguments");
            return a[0];
        }
        if (g == "_codecs.encode") {  // protocol 2 writes bytes as encode(str, 'latin1'): code points -> bytes
            if (a.empty() || a[0]->kind != Obj::Str) fail("unexpected _codecs.encode arguments");
            P o = mk(Obj::Bytes);
            for (char32_t cp : utf8_decode(a[0]->s)) o->s += (char)(unsigned char)cp;
            return o;
        }
        if (g == "numpy.core.multiarray._reconstruct" || g == "numpy._core.multiarray._reconstruct") return mk(Obj::NdArray);
        if (g == "numpy.dtype" || g == "torch.device") { P o = mk(Obj::Str); o->s = a.empty() ? "" : a[0]->s; return o; }
        if (g == "numpy.core.multiarray.scalar" || g == "numpy._core.multiarray.scalar") {  // (dtype, bytes)
            P o = mk(Obj::Float);
            if (a.size() == 2 && a[1]->kind == Obj::Bytes && a[1]->s.size() == 8) std::memcpy(&o->f, a[1]->s.data(), 8);
            return o;
        }
        fail("cannot call " + g);
    }
    P run() {
        for (;;) {
            const uint8_t op = byte();
            switch (op) {
                case 0x80: byte(); break;                       // PROTO
                case 0x95: le(8); break;                        // FRAME
                case '.': return pop();                         // STOP
                case '(': marks.push_back(stack.size()); break; // MARK
                case '}': push(mk(Obj::Dict)); break;
                case ']': push(mk(Obj::List)); break;
                case ')': push(mk(Obj::Tuple)); break;
                case 'N': push(mk(Obj::None)); break;
                case 0x88: case 0x89: { P b = mk(Obj::Bool); b->i = op == 0x88; push(b); break; }
                case 'J': { P n = mk(Obj::Int); n->i = (int32_t)le(4); push(n); break; }
                case 'K': { P n = mk(Obj::Int); n->i = byte(); push(n); break; }
                case 'M': { P n = mk(Obj::Int); n->i = le(2); push(n); break; }
                case 0x8a: {  // LONG1
                    int len = byte();
                    if (len > 8) fail(strfmt("a %d-byte integer (at most 8 are read)", len));
                    P n = mk(Obj::Int);
                    uint64_t v = le(len);
                    if (len > 0 && len < 8 && (v >> (8 * len - 1)) & 1) v |= ~0ull << (8 * len);  // sign-extend
                    n->i = (int64_t)v;
                    push(n);
                    break;
                }
                case 'G': { P x = mk(Obj::Float); uint64_t b = 0; for (int k = 0; k < 8; k++) b = (b << 8) | byte(); std::memcpy(&x->f, &b, 8); push(x); break; }
                case 'X': { P s = mk(Obj::Str); s->s = take(le(4)); push(s); break; }
                case 0x8c: { P s = mk(Obj::Str); s->s = take(byte()); push(s); break; }
                case 'C': { P s = mk(Obj::Bytes); s->s = take(byte()); push(s); break; }
                case 'B': { P s = mk(Obj::Bytes); s->s = take(le(4)); push(s); break; }
                case 'q': memo_put(byte()); break;  // BINPUT
                case 'r': memo_put(le(4)); break;   // LONG_BINPUT
                case 0x94: memo_put((int64_t)memo.size()); break;  // MEMOIZE
                case 'h': { auto it = memo.find(byte()); if (it == memo.end()) fail("bad memo"); push(it->second); break; }
                case 'j': { auto it = memo.find(le(4)); if (it == memo.end()) fail("bad memo"); push(it->second); break; }
                case 'c': { std::string m = line(), n = line(); push(global(m, n)); break; }  // GLOBAL
                case 0x93: { P n = pop(), m = pop(); if (n->kind != Obj::Str || m->kind != Obj::Str) fail("STACK_GLOBAL of non-strings"); push(global(m->s, n->s)); break; }     // STACK_GLOBAL
                case 't': { P t = mk(Obj::Tuple); t->items = pop_mark(); push(t); break; }
                case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
                    P t = mk(Obj::Tuple);
                    t->items.resize(op - 0x84);
                    for (size_t k = t->items.size(); k-- > 0;) t->items[k] = pop();
                    push(t);
                    break;
                }
                case 'Q': {  // BINPERSID: ('storage', cls, key, location, numel)
                    P pid = pop();
                    if (pid->kind != Obj::Tuple || pid->items.size() < 3 || pid->items[1]->kind != Obj::Global) fail("unexpected persistent id");
                    P st = mk(Obj::Storage);
                    st->s = pid->items[1]->s;
                    st->key = pid->items[2]->s;
                    push(st);
                    break;
                }
                case 'R': { P args = pop(), fn = pop(); push(call(fn, args)); break; }  // REDUCE
                case 0x81: { P args = pop(), cls = pop(); push(call(cls, args)); break; }  // NEWOBJ
                case 'b': {  // BUILD: for Namespace, the state is its attribute dict
                    P state = pop();
                    P obj = top();
                    if (obj->kind == Obj::Dict && state->kind == Obj::Dict) obj->dict.insert(obj->dict.end(), state->dict.begin(), state->dict.end());
                    if (obj->kind == Obj::NdArray) build_ndarray(obj, state);
                    // a numpy.dtype: (version, byte order, ...)
                    if (obj->kind == Obj::Str && state->kind == Obj::Tuple && state->items.size() > 1 &&
                        state->items[1]->kind == Obj::Str)
                        obj->key = state->items[1]->s;
                    break;
                }
                case 's': { P v = pop(), k = pop(); container(Obj::Dict)->dict.push_back({k, v}); break; }  // SETITEM
                case 'u': {  // SETITEMS
                    std::vector<P> kv = pop_mark();
                    P d = container(Obj::Dict);
                    for (size_t k = 0; k + 1 < kv.size(); k += 2) d->dict.push_back({kv[k], kv[k + 1]});
                    break;
                }
                case 'a': { P v = pop(); container(Obj::List)->items.push_back(v); break; }  // APPEND
                case 'e': { std::vector<P> v = pop_mark(); P l = container(Obj::List); for (P& x : v) l->items.push_back(x); break; }
                default: fail(strfmt("unsupported pickle opcode 0x%02x", op));
            }
        }
    }
};

// Nested dicts and lists become "a.b.0.c" names. A self-containing object, nesting deeper than 64 or
// more than 2^20 leaves (a "billion laughs" of shared references) is an error, not a crash.
struct FlattenLimits {
    const std::string& path;
    std::vector<const Obj*> open;  // the objects being expanded: one of them again is a cycle
    int64_t leaves = 0;
};

void flatten(const P& o, const std::string& name, SafeTensors& out, FlattenLimits& lim) {
    for (const Obj* a : lim.open)
        ENSURE_HINT(a != o.get(), "only state dicts of tensors are read", "%s: the pickled object contains itself (at %s)",
                    lim.path.c_str(), name.c_str());
    ENSURE_HINT(lim.open.size() < 64, "only state dicts of tensors are read", "%s: objects nested deeper than 64 (at %s)",
                lim.path.c_str(), name.substr(0, 200).c_str());
    ENSURE_HINT(++lim.leaves <= (1 << 20), "only state dicts of tensors are read",
                "%s: more than 2^20 objects once shared references are expanded", lim.path.c_str());
    lim.open.push_back(o.get());
    struct Pop { FlattenLimits& l; ~Pop() { l.open.pop_back(); } } pop_on_exit{lim};
    switch (o->kind) {
        case Obj::TensorV: out.tensors.push_back({name, o->tensor}); break;
        case Obj::Dict:
            for (auto& [k, v] : o->dict) {
                std::string key = k->kind == Obj::Str ? k->s : std::to_string(k->i);
                flatten(v, name.empty() ? key : name + "." + key, out, lim);
            }
            break;
        case Obj::List:
        case Obj::Tuple:
            for (size_t k = 0; k < o->items.size(); k++)
                flatten(o->items[k], name.empty() ? std::to_string(k) : name + "." + std::to_string(k), out, lim);
            break;
        case Obj::Int: out.metadata[name] = std::to_string(o->i); break;
        case Obj::Float: out.metadata[name] = strfmt("%.17g", o->f); break;
        case Obj::Str: out.metadata[name] = o->s; break;
        case Obj::Bool: out.metadata[name] = o->i ? "true" : "false"; break;
        default: break;
    }
}

}  // namespace

// A zip starts with a local file header, "PK\3\4"; torch.save's has its compression method (0, stored)
// at byte 8. A safetensors file starts with its header's length (8 bytes, little-endian) and then the
// header's '{'. The first two bytes alone do not tell them apart: a safetensors header of 0x4B50 bytes
// (19,280, e.g. a checkpoint whose config holds paths of the right length) also starts "PK".
bool is_torch_checkpoint(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char m[9] = {0};
    f.read(m, 9);
    return f.gcount() == 9 && std::memcmp(m, "PK\3\4", 4) == 0 && m[8] != '{';
}

SafeTensors torch_load(const std::string& path) {
    Zip zip(path);
    const std::string pkl_name = zip.find_suffix("/data.pkl");
    ENSURE_HINT(!pkl_name.empty(), "legacy (pre-1.6) torch.save files are not supported; re-save with a recent torch",
                "%s: no data.pkl in the archive", path.c_str());
    const auto& pkl = zip.entries.at(pkl_name);  // (offset, size)
    Unpickler u(zip, pkl_name.substr(0, pkl_name.size() - std::strlen("data.pkl")), pkl.first, pkl.first + pkl.second);
    P root = u.run();
    SafeTensors out;
    FlattenLimits lim{path, {}, 0};
    flatten(root, "", out, lim);
    return out;
}

SafeTensors load_weights_file(const std::string& path) {
    return is_torch_checkpoint(path) ? torch_load(path) : safetensors_load(path);
}

std::string find_model_weights(const std::string& dir) {
    for (const char* f : {"/model.safetensors", "/pytorch_model.bin"}) {
        std::ifstream t(dir + f, std::ios::binary);
        if (t.good()) return dir + f;
    }
    return "";
}

std::vector<double> load_pickled_sims(const std::string& path, size_t offset, int64_t* n_img, int64_t* n_cap) {
    std::ifstream f(path, std::ios::binary);
    ENSURE_HINT(f.good(), "check the path", "%s: cannot open", path.c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    const Zip raw(path, ss.str());
    ENSURE(offset <= raw.data.size(), "%s: the pickle starts past the end of the file", path.c_str());
    Unpickler u(raw, "", offset, raw.data.size());
    const P top = u.run();
    const char* hint = "the reference writes it with np.save(path, {'npts': N, 'sims': sims}); or pass a plain (N, 5N) .npy";
    // np.save of a dict: a 0-d object array holding the dict
    const P d = top->kind == Obj::NdArray && top->items.size() == 1 ? top->items[0] : top;
    ENSURE_HINT(d->kind == Obj::Dict, hint, "%s: the pickle holds no dict", path.c_str());
    P sims;
    for (const auto& [k, v] : d->dict)
        if (k->kind == Obj::Str && k->s == "sims") sims = v;
    ENSURE_HINT(sims && sims->kind == Obj::NdArray && sims->shape.size() == 2 && sims->dtype, hint,
                "%s: the dict has no 2-d 'sims' array", path.c_str());
    const std::string& t = sims->dtype->s;
    ENSURE_HINT(sims->dtype->key != ">", hint, "%s: a big-endian 'sims' array", path.c_str());
    ENSURE_HINT(t == "f4" || t == "f8", hint, "%s: 'sims' is of dtype %s (expected float32 or float64)", path.c_str(), t.c_str());
    const int64_t R = sims->shape[0], C = sims->shape[1];
    const size_t es = t == "f8" ? 8 : 4;
    ENSURE_HINT(R > 0 && C > 0 && C % R == 0 && (uint64_t)R * (uint64_t)C * es == sims->s.size(), hint,
                "%s: 'sims' of shape (%lld, %lld) with %zu bytes of data is not an (images, k x images) matrix",
                path.c_str(), (long long)R, (long long)C, sims->s.size());
    std::vector<double> out((size_t)R * C);
    for (size_t i = 0; i < out.size(); i++) {
        if (es == 8) std::memcpy(&out[i], sims->s.data() + 8 * i, 8);
        else { float v; std::memcpy(&v, sims->s.data() + 4 * i, 4); out[i] = v; }
    }
    *n_img = R, *n_cap = C;
    return out;
}

}  // namespace vsd
