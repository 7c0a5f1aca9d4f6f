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
// Devices. Device::CPU, or Device::CUDA: device memory from the caching pool of the kernel table
// that allocated it (src/core/backend.h: the GPU, or the CUDA emulator in tests). data() of a
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

struct KernelTable;  // backend.h

enum class DType : uint8_t { F32, I32, I64 };
enum class Device : uint8_t { CPU, CUDA };

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
    const KernelTable* table = nullptr;  // CUDA: the backend that owns the memory
    // CUDA storage comes from `table` (default: the active one, dk())
    Storage(size_t bytes, Device device, const KernelTable* table = nullptr);
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
    // the kernels of a device tensor (its storage's backend)
    const KernelTable& kernels() const;
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

// A tensor sharing base's storage with another shape/offset (no autograd link).
Tensor make_view(const Tensor& base, const Shape& shape, size_t offset);

// Normalise a possibly negative dimension index, with a clear error.
int norm_dim(int dim, int ndim, const char* op);

// Are two tensors equal in shape and within atol + rtol*|b| element-wise?
bool allclose(const Tensor& a, const Tensor& b, double atol = 1e-6, double rtol = 1e-5,
              std::string* why = nullptr);

// Is the CUDA backend built and is there a GPU? (false in CPU-only builds; see src/core/device.*)
bool cuda_available();

}  // namespace vsd
