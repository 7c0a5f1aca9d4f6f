// util.h — small helpers shared by the op implementations (not part of the public API).
#pragma once
#include "../../kernels/backend.h"
#include "../../kernels/elementwise.h"
#include "../../kernels/gemm.h"
#include "ops.h"

namespace vsd {

// View a shape as (outer, n, inner) around dim d.
inline void split_at(const Shape& s, int d, int64_t& outer, int64_t& n, int64_t& inner) {
    outer = 1;
    inner = 1;
    for (int i = 0; i < d; i++) outer *= s[i];
    n = s[d];
    for (size_t i = d + 1; i < s.size(); i++) inner *= s[i];
}

// All tensors are on the CPU (for the ops without a device path).
inline void check_cpu(const char* op, std::initializer_list<Tensor> ts) {
    for (const Tensor& t : ts)
        ENSURE(!t.defined() || !t.is_cuda(), "%s: device tensors are not supported by this op yet. HINT: move the "
               "inputs to the CPU (to(Device::CPU))", op);
}

// The kernels for an op's inputs: null when they are all on the CPU, the device's table when they
// are all on the device; a mix is an error naming the op.
inline const Backend* op_device(const char* op, const std::vector<Tensor>& ts) {
    current_op() = op;  // for the step profiler's per-op counts
    const Backend* k = nullptr;
    bool cpu = false;
    for (const Tensor& t : ts) {
        if (!t.defined()) continue;
        if (t.is_cuda()) {
            ENSURE(!k || k == &t.backend(), "%s: inputs live on two different device backends", op);
            k = &t.backend();
        } else {
            cpu = true;
        }
    }
    ENSURE(!(k && cpu), "%s: some inputs are on the device and some on the CPU. HINT: move them with to(Device)", op);
    return k;
}
inline Device device_of(const Backend* k) { return k ? Device::CUDA : Device::CPU; }

// A mask or condition as float 0/1 on device d, for reading only: the tensor itself when it is
// already float there (no copy), else converted and/or moved.
inline Tensor float_mask_on(const Tensor& m, Device d) {
    return m.dtype() == DType::F32 && m.device() == d ? m.detach() : to_float(m).to(d);
}

// Row-major C = alpha op(A) op(B) + beta C: gemm_cpu, or cuBLAS (version 3) on the device.
inline void gemm_on(const Backend* k, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (k) VSD_RUN(*k, gemm)(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, kernel_version(3));
    else gemm_cpu(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

inline void check_f32(const char* op, const Tensor& t, const char* what) {
    ENSURE(t.dtype() == DType::F32, "%s: %s must be float32, got %s %s", op, what, dtype_name(t.dtype()),
          t.shape_str().c_str());
}

// Numpy broadcasting of a and b into one output shape; fills the 4-D frame with 0-strides.
Broadcast make_broadcast(const char* op, const Shape& a, const Shape& b, Shape* out);

// int64 copy of an index tensor (I32 or I64), range-checked against [0, limit).
std::vector<int64_t> index_values(const char* op, const Tensor& idx, int64_t limit);

// A device index tensor as the kernels read it, int64: itself when it already is (no host round
// trip), else an int64 copy made through index_values (range-checked against [0, limit)).
inline Tensor device_i64(const char* op, const Tensor& idx, int64_t limit) {
    if (idx.dtype() == DType::I64) return idx;
    return Tensor::from_i64({idx.numel()}, index_values(op, idx.to(Device::CPU), limit)).to(Device::CUDA);
}

}  // namespace vsd
