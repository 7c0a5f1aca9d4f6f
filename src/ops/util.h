// util.h — small helpers shared by the op implementations (not part of the public API).
#pragma once
#include "../../kernels/elementwise.h"
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

// All tensors are on the CPU (the CUDA backend adds its own dispatch in each op).
inline void check_cpu(const char* op, std::initializer_list<Tensor> ts) {
    for (const Tensor& t : ts)
        ENSURE(!t.defined() || !t.is_cuda(), "%s: CUDA tensors are not supported by this op yet", op);
}

inline void check_f32(const char* op, const Tensor& t, const char* what) {
    ENSURE(t.dtype() == DType::F32, "%s: %s must be float32, got %s %s", op, what, dtype_name(t.dtype()),
          t.shape_str().c_str());
}

// Numpy broadcasting of a and b into one output shape; fills the 4-D frame with 0-strides.
Broadcast make_broadcast(const char* op, const Shape& a, const Shape& b, Shape* out);

// int64 copy of an index tensor (I32 or I64), range-checked against [0, limit).
std::vector<int64_t> index_values(const char* op, const Tensor& idx, int64_t limit);

}  // namespace vsd
