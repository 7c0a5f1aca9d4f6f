// tfevents.h — TensorBoard event files, as the reference's tensorboard_logger writes them.
//
// The file is a sequence of TFRecords, each
//     uint64 length | uint32 masked_crc32c(length bytes) | payload | uint32 masked_crc32c(payload)
// (little-endian; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8), and every payload is one
// `tensorflow.Event` protobuf message. We write two kinds:
//     the first:  Event { wall_time = 1, file_version = 3: "brain.Event:2" }
//     a scalar:   Event { wall_time = 1, step = 2, summary = 5: Summary { value = 1: Value {
//                         tag = 1, simple_value = 2 } } }
// Protobuf's wire format: each field is a key (field number << 3 | wire type) as a varint, then
// the value: a varint (type 0), 8 little-endian bytes (type 1: double), a varint length and the
// bytes (type 2: strings and nested messages), or 4 bytes (type 5: float). proto3 leaves out a
// field that holds its default (a zero step), except inside a oneof (simple_value).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace vsd {

// The pieces, exposed for tests.
std::string tfrecord(const std::string& payload);
std::string event_file_version(double wall_time);
std::string event_scalar(double wall_time, int64_t step, const std::string& tag, float value);

// An open event file: <dir>/events.out.tfevents.<10-digit seconds>.<host>, appended to as
// training goes (a crash loses at most the unflushed tail; readers stop at a torn last record).
class EventFile {
public:
    explicit EventFile(const std::string& dir);
    ~EventFile();
    EventFile(const EventFile&) = delete;
    EventFile& operator=(const EventFile&) = delete;
    void scalar(const std::string& tag, double value, int64_t step);  // stamped with the current time
    void flush();
    const std::string& path() const { return path_; }

private:
    void write(const std::string& payload);
    std::string path_;
    FILE* f_ = nullptr;
};

}  // namespace vsd
