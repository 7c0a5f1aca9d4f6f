#include "tensor.h"

#include <malloc.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace vsd {

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "float32";
        case DType::I32: return "int32";
        case DType::I64: return "int64";
    }
    return "?";
}

size_t dtype_size(DType t) { return t == DType::I64 ? 8 : 4; }

std::string shape_str(const Shape& s) {
    std::string r = "(";
    for (size_t i = 0; i < s.size(); i++) {
        if (i) r += ", ";
        r += std::to_string(s[i]);
    }
    if (s.size() == 1) r += ",";
    return r + ")";
}

int64_t shape_numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

// ---------------------------------------------------------------------------------------------
// Storage. CPU memory is 64-byte aligned (one cache line, one AVX-512 vector). Device memory comes
// from the caching pool of a backend, which also frees it.
namespace {
const Backend& (*g_backend_source)() = nullptr;
}
void set_backend_source(const Backend& (*source)()) { g_backend_source = source; }
const Backend& active_backend() {
    ENSURE(g_backend_source, "a device tensor was requested, but this program has no device backend (kernels/backend.cpp "
           "is not linked). HINT: keep tensors on the CPU");
    return g_backend_source();
}

// CPU tensors come from malloc. A training step frees and re-allocates the same large activations
// every step; glibc would hand blocks over 32 MB back to the kernel each time (mmap / munmap), and
// the kernel zeroes every fresh page on first touch (a 4-step GPO bench: 497,681 page faults, then
// 220,583 with this, and 2.2 -> 1.6 s a step). Keeping them in the heap instead (and up to 1 GiB
// of free heap before trimming) reuses the pages.
static const bool g_heap_tuned = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
}();

bool poison_new_memory() {
    static const bool on = [] {
        const char* v = std::getenv("VSD_POISON");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return on;
}

Storage::Storage(size_t nbytes, Device dev, const Backend* be) : bytes(nbytes), device(dev) {
    (void)g_heap_tuned;
    if (dev == Device::CPU) {
        size_t rounded = (nbytes + 63) / 64 * 64;
        ptr = rounded ? std::aligned_alloc(64, rounded) : nullptr;
        if (rounded && !ptr) throw std::bad_alloc();
        if (rounded && poison_new_memory()) std::memset(ptr, 0xFF, rounded);
    } else {
        backend = be ? be : &active_backend();
        ptr = nbytes ? backend->alloc(nbytes) : nullptr;
    }
}

Storage::~Storage() {
    if (!ptr) return;
    if (device == Device::CPU) std::free(ptr);
    else backend->free(ptr);
}

const Backend& Tensor::backend() const {
    ENSURE(is_cuda(), "backend(): %s is a CPU tensor", shape_str().c_str());
    return *impl().storage->backend;
}

Tensor Tensor::to(Device d) const {
    if (device() == d) return *this;
    const size_t nbytes = numel() * dtype_size(dtype());
    if (d == Device::CUDA) {
        Tensor t = empty(shape(), dtype(), Device::CUDA);
        if (nbytes) t.backend().copy_to_device(t.raw(), raw(), nbytes);
        return t;
    }
    Tensor t = empty(shape(), dtype(), Device::CPU);
    if (nbytes) backend().copy_to_host(t.raw(), raw(), nbytes);
    return t;
}

// ---------------------------------------------------------------------------------------------
static void check_shape(const Shape& shape) {
    ENSURE(shape.size() <= 4, "tensors have at most 4 dims, got %s", vsd::shape_str(shape).c_str());
    for (int64_t d : shape) ENSURE(d >= 0, "negative size in shape %s", vsd::shape_str(shape).c_str());
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device dev) {
    check_shape(shape);
    Tensor t;
    t.impl_ = std::make_shared<TensorImpl>();
    t.impl_->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), dev);
    t.impl_->shape = shape;
    t.impl_->dtype = dtype;
    return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device dev) {
    Tensor t = empty(shape, dtype, dev);
    if (!t.numel()) return t;
    if (dev == Device::CUDA) t.backend().zero(t.raw(), t.numel() * dtype_size(dtype));
    else std::memset(t.raw(), 0, t.numel() * dtype_size(dtype));
    return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
    Tensor t = empty(shape);
    fill(t, value);
    return t;
}

Tensor Tensor::from(const Shape& shape, const std::vector<float>& values) {
    Tensor t = empty(shape);
    ENSURE((int64_t)values.size() == t.numel(), "Tensor::from: shape %s needs %lld values, got %zu",
          vsd::shape_str(shape).c_str(), (long long)t.numel(), values.size());
    if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
    return t;
}

Tensor Tensor::from_i64(const Shape& shape, const std::vector<int64_t>& values) {
    Tensor t = empty(shape, DType::I64);
    ENSURE((int64_t)values.size() == t.numel(), "Tensor::from_i64: shape %s needs %lld values, got %zu",
          vsd::shape_str(shape).c_str(), (long long)t.numel(), values.size());
    if (!values.empty()) std::memcpy(t.i64(), values.data(), values.size() * sizeof(int64_t));
    return t;
}

Tensor Tensor::from_i32(const Shape& shape, const std::vector<int32_t>& values) {
    Tensor t = empty(shape, DType::I32);
    ENSURE((int64_t)values.size() == t.numel(), "Tensor::from_i32: shape %s needs %lld values, got %zu",
          vsd::shape_str(shape).c_str(), (long long)t.numel(), values.size());
    if (!values.empty()) std::memcpy(t.i32(), values.data(), values.size() * sizeof(int32_t));
    return t;
}

Tensor Tensor::randn(const Shape& shape, Rng& rng, float stddev) {
    Tensor t = empty(shape);
    fill_normal(t, stddev, rng);
    return t;
}

Tensor Tensor::rand(const Shape& shape, Rng& rng, float lo, float hi) {
    Tensor t = empty(shape);
    fill_uniform(t, lo, hi, rng);
    return t;
}

void copy_values(const Tensor& dst, const Tensor& src) {
    ENSURE(dst.numel() == src.numel() && dst.dtype() == DType::F32 && src.dtype() == DType::F32 && !dst.is_cuda() &&
               !src.is_cuda(), "copy_values: needs two CPU float tensors of one size, got %s and %s", dst.shape_str().c_str(),
           src.shape_str().c_str());
    if (src.numel()) std::memcpy(dst.data(), src.data(), src.numel() * sizeof(float));
}

void fill(const Tensor& t, float value) {
    float* p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = value;
}

void fill_uniform(const Tensor& t, float lo, float hi, Rng& rng) {
    float* p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = rng.uniform(lo, hi);
}

void fill_normal(const Tensor& t, float stddev, Rng& rng) {
    float* p = t.data();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = stddev * rng.normal();
}

int64_t first_outside(const Tensor& t, int64_t lo, int64_t hi) {
    if (t.is_cuda()) return first_outside(t.to(Device::CPU), lo, hi);
    for (int64_t i = 0; i < t.numel(); i++)
        if (t.index_at(i) < lo || t.index_at(i) > hi) return i;
    return -1;
}

static std::string element_name(const Tensor& t, int64_t i) {
    if (t.ndim() != 2) return strfmt("element %lld", (long long)i);
    return strfmt("element %lld (row %lld, column %lld)", (long long)i, (long long)(i / t.size(1)), (long long)(i % t.size(1)));
}

std::string describe_nonfinite(const Tensor& t) {
    const int64_t i = first_nonfinite(t);
    return i < 0 ? "" : element_name(t, i) + strfmt(" is %g", t.to(Device::CPU).data()[i]);
}

std::string describe_outside(const Tensor& t, int64_t lo, int64_t hi) {
    const int64_t i = first_outside(t, lo, hi);
    return i < 0 ? "" : element_name(t, i) + strfmt(" is %lld", (long long)t.to(Device::CPU).index_at(i));
}

int64_t first_nonfinite(const Tensor& t) {
    if (t.is_cuda()) return first_nonfinite(t.to(Device::CPU));
    const float* p = t.data();
    for (int64_t i = 0; i < t.numel(); i++)
        if (!std::isfinite(p[i])) return i;
    return -1;
}

int norm_dim(int dim, int ndim, const char* op) {
    int d = dim < 0 ? dim + ndim : dim;
    ENSURE(d >= 0 && d < ndim, "%s: dim %d out of range for a %d-d tensor", op, dim, ndim);
    return d;
}

int64_t Tensor::size(int dim) const { return impl().shape[norm_dim(dim, ndim(), "size")]; }

// ---------------------------------------------------------------------------------------------
void* Tensor::raw() const {
    const TensorImpl& t = impl();
    return (char*)t.storage->ptr + t.offset * dtype_size(t.dtype);
}

float* Tensor::data() const {
    ENSURE(dtype() == DType::F32, "expected a float32 tensor, got %s %s", dtype_name(dtype()), shape_str().c_str());
    return (float*)raw();
}
int32_t* Tensor::i32() const {
    ENSURE(dtype() == DType::I32, "expected an int32 tensor, got %s %s", dtype_name(dtype()), shape_str().c_str());
    return (int32_t*)raw();
}
int64_t* Tensor::i64() const {
    ENSURE(dtype() == DType::I64, "expected an int64 tensor, got %s %s", dtype_name(dtype()), shape_str().c_str());
    return (int64_t*)raw();
}

float Tensor::item() const {
    ENSURE(numel() == 1, "item() needs a 1-element tensor, got %s", shape_str().c_str());
    return to_vector()[0];
}

int64_t Tensor::index_at(int64_t i) const {
    ENSURE(!is_cuda(), "index_at() reads CPU memory; copy the %s tensor to the CPU first (to(Device::CPU))",
           shape_str().c_str());
    switch (dtype()) {
        case DType::I32: return i32()[i];
        case DType::I64: return i64()[i];
        default: return (int64_t)data()[i];
    }
}

std::vector<float> Tensor::to_vector() const {
    if (is_cuda()) return to(Device::CPU).to_vector();
    std::vector<float> v(numel());
    for (int64_t i = 0; i < numel(); i++) v[i] = dtype() == DType::F32 ? data()[i] : (float)index_at(i);
    return v;
}

// ---------------------------------------------------------------------------------------------
Tensor& Tensor::requires_grad(bool on) {
    ENSURE(!on || dtype() == DType::F32, "only float32 tensors can require grad, got %s", dtype_name(dtype()));
    impl().requires_grad = on;
    return *this;
}

float* Tensor::grad() const {
    TensorImpl& t = impl();
    if (!t.grad) {
        t.grad = std::make_shared<Storage>(numel() * sizeof(float), device(), t.storage->backend);
        if (numel() && is_cuda()) t.storage->backend->zero(t.grad->ptr, numel() * sizeof(float));
        else if (numel()) std::memset(t.grad->ptr, 0, numel() * sizeof(float));
    }
    return (float*)t.grad->ptr;
}

float* Tensor::grad_unzeroed() const {
    TensorImpl& t = impl();
    if (t.grad) return nullptr;
    t.grad = std::make_shared<Storage>(numel() * sizeof(float), device(), t.storage->backend);
    return (float*)t.grad->ptr;
}

bool Tensor::adopt_grad(const Tensor& y) const {
    ENSURE(y.numel() == numel(), "adopt_grad: %s cannot take the gradient of %s", shape_str().c_str(), y.shape_str().c_str());
    if (impl().grad) return false;
    y.grad();  // y's buffer, zeroed if nothing reached y
    impl().grad = y.impl().grad;
    return true;
}

Tensor Tensor::grad_tensor() const {
    Tensor g;
    g.impl_ = std::make_shared<TensorImpl>();
    g.impl_->shape = shape();
    g.impl_->dtype = DType::F32;
    g.impl_->storage = impl().grad;
    if (!g.impl_->storage) return Tensor::zeros(shape(), DType::F32, device());
    return g;
}

void Tensor::zero_grad() const {
    if (!has_grad() || !numel()) return;
    if (is_cuda()) backend().zero(impl().grad->ptr, numel() * sizeof(float));
    else std::memset(impl().grad->ptr, 0, numel() * sizeof(float));
}

Tensor Tensor::detach() const { return make_view(*this, shape(), impl().offset); }

Tensor Tensor::clone() const {
    Tensor t = empty(shape(), dtype(), device());
    if (!numel()) return t;
    if (is_cuda()) backend().copy_on_device(t.raw(), raw(), numel() * dtype_size(dtype()));
    else std::memcpy(t.raw(), raw(), numel() * dtype_size(dtype()));
    return t;
}

Tensor make_view(const Tensor& base, const Shape& shape, size_t offset) {
    check_shape(shape);
    Tensor t;
    t.impl_ = std::make_shared<TensorImpl>();
    t.impl_->storage = base.impl().storage;
    t.impl_->offset = offset;
    t.impl_->shape = shape;
    t.impl_->dtype = base.dtype();
    return t;
}

Tensor Tensor::view_as_shape(const Shape& s) const {
    ENSURE(shape_numel(s) == numel(), "view %s -> %s changes the number of elements", shape_str().c_str(),
          vsd::shape_str(s).c_str());
    return make_view(*this, s, impl().offset);
}

Tensor Tensor::view_rows(int64_t start, int64_t len) const {
    ENSURE(ndim() >= 1 && start >= 0 && len >= 0 && start + len <= size(0),
          "view_rows [%lld, %lld) out of range for %s", (long long)start, (long long)(start + len),
          shape_str().c_str());
    Shape s = shape();
    s[0] = len;
    int64_t row = numel() / (size(0) ? size(0) : 1);
    return make_view(*this, s, impl().offset + start * row);
}

bool allclose(const Tensor& a, const Tensor& b, double atol, double rtol, std::string* why) {
    if (a.shape() != b.shape()) {
        if (why) *why = "shapes differ: " + a.shape_str() + " vs " + b.shape_str();
        return false;
    }
    std::vector<float> va = a.to_vector(), vb = b.to_vector();
    for (size_t i = 0; i < va.size(); i++) {
        double x = va[i], y = vb[i];
        bool ok = (std::isnan(x) && std::isnan(y)) || (x == y) || std::fabs(x - y) <= atol + rtol * std::fabs(y);
        if (!ok) {
            if (why) *why = strfmt("element %zu: %.9g vs %.9g (|diff| %.3g > %.3g)", i, x, y, std::fabs(x - y),
                                   atol + rtol * std::fabs(y));
            return false;
        }
    }
    return true;
}

}  // namespace vsd
