// reduce.cpp — sum, mean, max (kernels/reduce).
#include "../../kernels/reduce.h"

#include "util.h"

namespace vsd {

static Shape reduced_shape(const Shape& s, int d, bool keepdim) {
    Shape r = s;
    if (keepdim) r[d] = 1;
    else r.erase(r.begin() + d);
    return r;
}

static Tensor sum_impl(const char* name, const Tensor& x, int dim, bool keepdim, bool is_mean) {
    check_cpu(name, {x});
    check_f32(name, x, "input");
    int d = norm_dim(dim, x.ndim(), name);
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(!is_mean || n > 0, "%s: mean over an empty dim %d of %s", name, dim, x.shape_str().c_str());
    float scale = is_mean ? 1.0f / (float)n : 1.0f;
    Tensor y = Tensor::empty(reduced_shape(x.shape(), d, keepdim));
    sum_dim_forward_cpu(y.data(), x.data(), outer, n, inner, scale);
    record(name, {x}, y, [x, y, outer, n, inner, scale]() mutable {
        sum_dim_backward_cpu(x.grad(), y.grad(), outer, n, inner, scale);
    });
    return y;
}

Tensor sum(const Tensor& x, int dim, bool keepdim) { return sum_impl("sum", x, dim, keepdim, false); }
Tensor mean(const Tensor& x, int dim, bool keepdim) { return sum_impl("mean", x, dim, keepdim, true); }
// whole-tensor reductions: flatten to 1-D (a view) and reduce dim 0, giving shape ()
Tensor sum(const Tensor& x) { return sum_impl("sum", reshape(x, {x.numel()}), 0, false, false); }
Tensor mean(const Tensor& x) { return sum_impl("mean", reshape(x, {x.numel()}), 0, false, true); }

std::pair<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim) {
    check_cpu("max", {x});
    check_f32("max", x, "input");
    int d = norm_dim(dim, x.ndim(), "max");
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(n > 0, "max: reduction over an empty dim %d of %s", dim, x.shape_str().c_str());
    Shape rs = reduced_shape(x.shape(), d, keepdim);
    Tensor y = Tensor::empty(rs), idx = Tensor::empty(rs, DType::I64);
    max_dim_forward_cpu(y.data(), idx.i64(), x.data(), outer, n, inner);
    record("max", {x}, y, [x, y, idx, outer, n, inner]() mutable {
        max_dim_backward_cpu(x.grad(), y.grad(), idx.i64(), outer, n, inner);
    });
    return {y, idx};
}

}  // namespace vsd
