// reduce.cpp — sum, mean, max (kernels/reduce).
#include "../../kernels/gather.h"  // max: the backward scatters through the indices
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
    const Backend* k = op_device(name, {x});
    check_f32(name, x, "input");
    int d = norm_dim(dim, x.ndim(), name);
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(!is_mean || n > 0, "%s: mean over an empty dim %d of %s", name, dim, x.shape_str().c_str());
    float scale = is_mean ? 1.0f / (float)n : 1.0f;
    Tensor y = Tensor::empty(reduced_shape(x.shape(), d, keepdim), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, sum_dim)(y.data(), x.data(), outer, n, inner, scale);
    else sum_dim_forward_cpu(y.data(), x.data(), outer, n, inner, scale);
    record(name, {x}, y, [x, y, outer, n, inner, scale, k]() mutable {
        if (!k) return sum_dim_backward_cpu(x.grad(), y.grad(), outer, n, inner, scale);
        // dx[o, j, i] += scale dy[o, i]: a broadcasting add into dx, in place
        Tensor dy = y.grad_tensor();
        if (scale != 1.0f) dy = mul_scalar(dy.detach(), scale);
        const Broadcast bc = {{1, outer, n, inner}, {0, n * inner, inner, 1}, {0, inner, 0, 1}};
        VSD_RUN(*k, binary_forward)(Binary::Add, x.grad(), x.grad(), dy.data(), bc);
    });
    return y;
}

Tensor sum(const Tensor& x, int dim, bool keepdim) { return sum_impl("sum", x, dim, keepdim, false); }
Tensor mean(const Tensor& x, int dim, bool keepdim) { return sum_impl("mean", x, dim, keepdim, true); }
// whole-tensor reductions: flatten to 1-D (a view) and reduce dim 0, giving shape ()
Tensor sum(const Tensor& x) { return sum_impl("sum", reshape(x, {x.numel()}), 0, false, false); }
Tensor mean(const Tensor& x) { return sum_impl("mean", reshape(x, {x.numel()}), 0, false, true); }

std::pair<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim) {
    const Backend* k = op_device("max", {x});
    check_f32("max", x, "input");
    int d = norm_dim(dim, x.ndim(), "max");
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(n > 0, "max: reduction over an empty dim %d of %s", dim, x.shape_str().c_str());
    Shape rs = reduced_shape(x.shape(), d, keepdim);
    Tensor y = Tensor::empty(rs, DType::F32, device_of(k)), idx = Tensor::empty(rs, DType::I64, device_of(k));
    if (k) VSD_RUN(*k, max_dim)(y.data(), idx.i64(), x.data(), outer, n, inner);
    else max_dim_forward_cpu(y.data(), idx.i64(), x.data(), outer, n, inner);
    record("max", {x}, y, [x, y, idx, outer, n, inner, k]() mutable {
        if (k) VSD_RUN(*k, gather_backward)(x.grad(), y.grad(), idx.i64(), outer, n, 1, inner);  // dx[o, idx, i] += dy[o, i]
        else max_dim_backward_cpu(x.grad(), y.grad(), idx.i64(), outer, n, inner);
    });
    return {y, idx};
}

}  // namespace vsd
