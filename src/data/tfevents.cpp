// tfevents.cpp — TFRecord framing and the protobuf encoding of scalar events (tfevents.h).
#include "tfevents.h"

#include <unistd.h>

#include <chrono>
#include <cstring>

#include "../core/check.h"
#include "checksum.h"

namespace vsd {

namespace {

// ---- protobuf wire format ----------------------------------------------------------------------
void varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {  // 7 bits a byte, low bits first, the top bit says "more follows"
        out.push_back((char)(0x80 | (v & 0x7F)));
        v >>= 7;
    }
    out.push_back((char)v);
}
void key(std::string& out, int field, int wire_type) { varint(out, (uint64_t)(field << 3 | wire_type)); }
template <class T>
void little_endian(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // the hosts we build for are little-endian
    out.append(b, sizeof(T));
}
void field_double(std::string& out, int field, double v) { key(out, field, 1); little_endian(out, v); }
void field_float(std::string& out, int field, float v) { key(out, field, 5); little_endian(out, v); }
void field_varint(std::string& out, int field, uint64_t v) { key(out, field, 0); varint(out, v); }
void field_bytes(std::string& out, int field, const std::string& v) {
    key(out, field, 2);
    varint(out, v.size());
    out += v;
}

uint32_t masked_crc(const void* p, size_t n) {
    const uint32_t c = crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string tfrecord(const std::string& payload) {
    std::string r;
    const uint64_t n = payload.size();
    little_endian(r, n);
    little_endian(r, masked_crc(&n, sizeof n));
    r += payload;
    little_endian(r, masked_crc(payload.data(), payload.size()));
    return r;
}

std::string event_file_version(double wall_time) {
    std::string e;
    field_double(e, 1, wall_time);
    field_bytes(e, 3, "brain.Event:2");
    return e;
}

std::string event_scalar(double wall_time, int64_t step, const std::string& tag, float value) {
    std::string v, s, e;
    field_bytes(v, 1, tag);       // Summary.Value.tag
    field_float(v, 2, value);     // Summary.Value.simple_value (a oneof member: written even when 0)
    field_bytes(s, 1, v);         // Summary.value
    field_double(e, 1, wall_time);
    if (step != 0) field_varint(e, 2, (uint64_t)step);  // Event.step (proto3: 0 is left out)
    field_bytes(e, 5, s);         // Event.summary
    return e;
}

EventFile::EventFile(const std::string& dir) {
    const double t = now();
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    path_ = strfmt("%s/events.out.tfevents.%010lld.%s", dir.c_str(), (long long)t, host);
    f_ = std::fopen(path_.c_str(), "ab");
    ENSURE_HINT(f_, "check that the run folder is writable", "%s: cannot open the TensorBoard event file for writing",
                path_.c_str());
    write(event_file_version(t));
    flush();
}

EventFile::~EventFile() {
    if (f_) std::fclose(f_);
}

void EventFile::scalar(const std::string& tag, double value, int64_t step) { write(event_scalar(now(), step, tag, (float)value)); }

void EventFile::write(const std::string& payload) {
    const std::string r = tfrecord(payload);
    ENSURE_HINT(std::fwrite(r.data(), 1, r.size(), f_) == r.size(), "check the free disk space",
                "%s: writing a TensorBoard event failed", path_.c_str());
}

void EventFile::flush() { std::fflush(f_); }

}  // namespace vsd
