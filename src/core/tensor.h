// tensor.h — the Tensor handle: up to 4 dims, contiguous row-major, reference-counted.
//
//   Tensor x = Tensor::randn({2, 3}, rng);     // float32 on the CPU
//   Tensor y = reshape(x, {3, 2});              // a view: shares x's bytes, no copy
//   x.requires_grad();                          // x now collects a gradient in x.grad()
//
// Storage. A Tensor points at a TensorImpl (shape, dtype, device, autograd flags) which points at
// a Storage (the bytes). Several impls may share one Storage: that is how reshape and narrow along
// the first dimension are free. Every Tensor is contiguous in row-major order from its offset, so
// a kernel can always take `data()` as a flat array of numel() elements.
//
// dtypes. F32 for values and gradients; I32 and I64 for indices, lengths and masks (they never
// carry gradients).
//
// Devices. Device::CPU, or Device::CUDA: device memory from the caching pool of the backend that
// allocated it (struct Backend below; kernels/backend.h makes them: the GPU, or the CUDA emulator
// in tests). data() of a
// device tensor is a device pointer for kernels; to_vector() and item() copy to the host, and
// to(Device) copies between devices. Ops dispatch on is_cuda().
//
// Gradients. A tensor that requires grad owns a float buffer of the same numel, allocated lazily
// (zeroed) by grad(). Ops *accumulate* into it (`+=`); zero_grad() is explicit. See tape.h.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "rng.h"

namespace vsd {

enum class DType : uint8_t { F32, I32, I64 };
enum class Device : uint8_t { CPU, CUDA };

// A device backend, as the core sees it: where device memory comes from, and the one arithmetic
// the tape needs (gradient accumulation). The kernels layer makes two (kernels/backend.cpp): the
// GPU ("cuda", the nvcc build of kernels/*.cu) and the CUDA emulator ("emulator", the same sources
// run on the CPU). Ops pick the kernels of the right build with VSD_RUN (kernels/launch.h).
struct Backend {
    const char* name;  // "cuda" or "emulator"
    bool gpu;          // true: the vsd::cuda kernels; false: vsd::sim (the emulator)
    void* (*alloc)(size_t bytes);  // from the caching pool
    void (*free)(void* p);
    void (*copy_to_device)(void* dst, const void* src, size_t bytes);
    void (*copy_to_host)(void* dst, const void* src, size_t bytes);
    void (*copy_on_device)(void* dst, const void* src, size_t bytes);
    void (*zero)(void* p, size_t bytes);
    void (*accumulate)(float* dst, const float* src, int64_t n);  // dst[0:n] += src[0:n]
    void (*zero_many)(float* const* ptr, const int64_t* n, int count);  // every ptr[i][0:n[i]] = 0, one launch
};
// The backend for new device tensors. The kernels layer installs the function that chooses it
// (kernels/backend.cpp: the emulator when switched on, else the GPU, else an error with a hint).
void set_backend_source(const Backend& (*source)());
const Backend& active_backend();
// VSD_POISON=1 in the environment (a debugging aid): every new CPU tensor and device pool block
// starts as 0xFF bytes (NaN as float, -1 as an integer) instead of whatever memory held, so a value
// read before anything wrote it shows up as NaN (or a bad index) at once, on every machine alike.
bool poison_new_memory();

const char* dtype_name(DType t);
size_t dtype_size(DType t);

using Shape = std::vector<int64_t>;  // 0..4 dims
std::string shape_str(const Shape& s);  // "(2, 3)"
int64_t shape_numel(const Shape& s);

// A block of bytes on one device, freed when the last owner lets go.
struct Storage {
    void* ptr = nullptr;
    size_t bytes = 0;
    Device device = Device::CPU;
    const Backend* backend = nullptr;  // CUDA: the backend that owns the memory
    // CUDA storage comes from `backend` (default: active_backend())
    Storage(size_t bytes, Device device, const Backend* backend = nullptr);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
    std::shared_ptr<Storage> storage;   // the values (shared by views)
    size_t offset = 0;                  // in elements, into storage
    Shape shape;                        // up to 4 dims
    DType dtype = DType::F32;
    bool requires_grad = false;
    std::shared_ptr<Storage> grad;      // float32, numel elements, lazily allocated
};

class Tensor {
public:
    Tensor() = default;  // undefined tensor (used for "no bias", "no mask")

    // ---- construction ----
    static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device dev = Device::CPU);
    static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device dev = Device::CPU);
    static Tensor full(const Shape& shape, float value);
    static Tensor ones(const Shape& shape) { return full(shape, 1.0f); }
    static Tensor from(const Shape& shape, const std::vector<float>& values);
    static Tensor from_i64(const Shape& shape, const std::vector<int64_t>& values);
    static Tensor from_i32(const Shape& shape, const std::vector<int32_t>& values);
    static Tensor randn(const Shape& shape, Rng& rng, float stddev = 1.0f);
    static Tensor rand(const Shape& shape, Rng& rng, float lo = 0.0f, float hi = 1.0f);
    static Tensor scalar(float v) { return from({}, {v}); }

    // ---- shape ----
    bool defined() const { return (bool)impl_; }
    int ndim() const { return (int)impl().shape.size(); }
    const Shape& shape() const { return impl().shape; }
    int64_t size(int dim) const;  // negative dims count from the end
    int64_t numel() const { return shape_numel(impl().shape); }
    std::string shape_str() const { return vsd::shape_str(impl().shape); }
    DType dtype() const { return impl().dtype; }
    Device device() const { return impl().storage->device; }
    bool is_cuda() const { return device() == Device::CUDA; }
    // the backend of a device tensor (its storage's)
    const Backend& backend() const;
    // a copy on `d` (the same tensor when it is already there); values only, no gradient link
    Tensor to(Device d) const;

    // ---- data access (CPU) ----
    // A Tensor is a handle (like shared_ptr): const-ness is shallow, so a const Tensor still
    // gives writable data. Backward closures hold const copies and write gradients through them.
    float* data() const;
    int32_t* i32() const;
    int64_t* i64() const;
    void* raw() const;  // typed pointer as void*
    float item() const;  // the single value of a 1-element F32 tensor
    std::vector<float> to_vector() const;  // F32 values (I32/I64 converted)
    // index value of an I32/I64 tensor at flat position i (CPU tensors only)
    int64_t index_at(int64_t i) const;

    // ---- autograd ----
    Tensor& requires_grad(bool on = true);  // mark as a leaf that collects a gradient
    bool needs_grad() const { return defined() && impl().requires_grad; }
    float* grad() const;           // lazily allocated, zero-filled float buffer of numel()
    bool has_grad() const { return defined() && (bool)impl().grad; }
    // The gradient buffer, allocated now but NOT zeroed, when there is none yet (else null): the
    // tape zeroes a stretch of them with one launch (tape.cpp). The caller must zero it.
    float* grad_unzeroed() const;
    // Take y's gradient buffer as this tensor's, when this one has none yet (false otherwise): the
    // backward of a view (reshape) whose input has no other gradient, instead of zeroing one and
    // adding. Same numel; afterwards the two share one buffer.
    bool adopt_grad(const Tensor& y) const;
    Tensor grad_tensor() const;    // a tensor viewing the gradient (zeros if none yet)
    void zero_grad() const;        // set the gradient to zero (keeps the buffer)
    Tensor detach() const;         // same values, no gradient tracking

    // ---- copies and views ----
    Tensor clone() const;                     // deep copy of the values (no grad)
    Tensor view_as_shape(const Shape& s) const;   // raw view, no autograd (use ops' reshape)
    Tensor view_rows(int64_t start, int64_t len) const;  // raw view of rows [start, start+len) of dim 0

    // identity of the underlying impl (used by the optimiser and tests)
    TensorImpl* id() const { return impl_.get(); }
    std::shared_ptr<TensorImpl> impl_ptr() const { return impl_; }

private:
    std::shared_ptr<TensorImpl> impl_;
    TensorImpl& impl() const {
        ENSURE(impl_, "use of an undefined tensor");
        return *impl_;
    }
    friend Tensor make_view(const Tensor& base, const Shape& shape, size_t offset);
};

// dst's values := src's (CPU float tensors of the same number of elements; no gradient link)
void copy_values(const Tensor& dst, const Tensor& src);
// In-place fills of a CPU float tensor (initialisers; the values in flat order, one draw each)
void fill(const Tensor& t, float value);
void fill_uniform(const Tensor& t, float lo, float hi, Rng& rng);  // U(lo, hi)
void fill_normal(const Tensor& t, float stddev, Rng& rng);         // N(0, stddev^2)
// The flat index of the first NaN or infinity of a float tensor, -1 when all are finite.
int64_t first_nonfinite(const Tensor& t);
// The flat index of the first value of an index tensor outside [lo, hi], -1 when none is.
int64_t first_outside(const Tensor& t, int64_t lo, int64_t hi);
// For error messages: "" when all is well, else which element is wrong and its value, e.g.
// "element 7 (row 1, column 3) is nan" / "element 2 is 0" (rows and columns for 2-D tensors).
std::string describe_nonfinite(const Tensor& t);
std::string describe_outside(const Tensor& t, int64_t lo, int64_t hi);

// A tensor sharing base's storage with another shape/offset (no autograd link).
Tensor make_view(const Tensor& base, const Shape& shape, size_t offset);

// Normalise a possibly negative dimension index, with a clear error.
int norm_dim(int dim, int ndim, const char* op);

// Are two tensors equal in shape and within atol + rtol*|b| element-wise?
bool allclose(const Tensor& a, const Tensor& b, double atol = 1e-6, double rtol = 1e-5,
              std::string* why = nullptr);

}  // namespace vsd
