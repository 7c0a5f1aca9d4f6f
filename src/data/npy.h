// npy.h — NumPy .npy files: read (memory-mapped), convert, and write atomically.
//
// Format (numpy.lib.format): magic "\x93NUMPY", version byte pair (1.0, 2.0 or 3.0), header length
// (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (896, 1024), }
// padded with spaces and a newline so the data starts at a multiple of 64 (16 in old files).
// The data follows, C order, in the dtype named by 'descr'.
//
// Big feature files (Flickr30K train_ims.npy is 8.5 GB, COCO's 33 GB) are memory-mapped: opening
// costs nothing, and only the rows a batch touches are paged in. Every problem with a file (missing,
// truncated, wrong magic, unsupported dtype, Fortran order, shape disagreeing with the size) is one
// vsd::Error line naming the file, what was expected and what was found.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.h"

namespace vsd {

enum class NpyType { F4, F8, F2, I4, I8, U1, B1 };
const char* npy_type_name(NpyType t);  // "float32", ...
size_t npy_type_size(NpyType t);

struct MappedFile;  // an mmap of a whole file (npy.cpp)

class NpyArray {
public:
    std::string path;
    NpyType type = NpyType::F4;
    std::vector<int64_t> shape;  // any number of dims
    int version_major = 1;

    int64_t numel() const;
    int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
    int64_t row_numel() const;              // elements per row (product of dims after the first)
    std::string shape_str() const;          // "(896, 1024)"
    // element i (flat, C order) converted to double
    double at(int64_t i) const;
    // rows [row0, row0 + nrows) converted to a tensor: F32 for float/bool/u8, I64 for integers
    // unless want is given. The tensor has the array's shape with dim 0 = nrows (at most 4 dims).
    Tensor rows_tensor(int64_t row0, int64_t nrows, DType want) const;
    Tensor to_tensor(DType want = DType::F32) const { return rows_tensor(0, rows(), want); }
    // raw pointer to the little-endian data of row r (zero-copy; valid while this object lives)
    const void* row_ptr(int64_t r) const;

    std::shared_ptr<MappedFile> file;  // keeps the mapping alive
    size_t data_offset = 0;
};

// Open and validate; the data is memory-mapped, not read.
NpyArray npy_open(const std::string& path);
// Parse a header from bytes (exposed for tests and fuzzing). `size` is the whole file's size;
// on success fills type/shape/version/data_offset.
void npy_parse_header(const std::string& path, const unsigned char* bytes, size_t size, NpyArray& out);

// An object array (descr '|O': np.save of a dict, as the reference saves its similarities): where
// its pickle starts; 0 for any other file (numbers, or not a .npy at all).
size_t npy_pickle_offset(const std::string& path);

// Load a whole file into a tensor (convenience for small files).
Tensor npy_load(const std::string& path, DType want = DType::F32);

// Write a tensor as .npy version 1.0 ('<f4', '<i4' or '<i8'), atomically: a temporary file in
// the same folder, fsync, then rename. A reader never sees a half-written file.
void npy_save(const std::string& path, const Tensor& t);
// Write raw little-endian data with an explicit descr and shape (used for other dtypes in tests).
void npy_save_raw(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
                  const void* data, size_t nbytes, int version_major = 1);

// IEEE binary16 -> float (subnormals, inf and NaN included); shared with the safetensors reader.
float half_to_float(uint16_t h);

// A whole file's bytes; one that cannot be opened is the error "<path>: cannot open <what>. HINT: <hint>".
std::string read_file(const std::string& path, const char* what, const char* hint);
// Atomic whole-file write helper (temporary + fsync + rename), shared by every writer.
void write_file_atomic(const std::string& path, const std::string& bytes);
// mkdir -p; a folder that cannot be made is an error naming it
void make_dirs(const std::string& path);

}  // namespace vsd
