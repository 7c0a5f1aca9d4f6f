// sort.cpp — sort and top-k along a dim; the gradient scatters back through the indices (kernels/sort.h).
#include "../../kernels/gather.h"
#include "../../kernels/sort.h"
#include "util.h"

namespace vsd {

static std::pair<Tensor, Tensor> sort_impl(const char* name, const Tensor& x, int64_t k, int dim, bool descending) {
    const Backend* kt = op_device(name, {x});
    check_f32(name, x, "input");
    int d = norm_dim(dim, x.ndim(), name);
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(k >= 0 && k <= n, "%s: k = %lld but dim %d of %s has %lld elements", name, (long long)k, dim,
          x.shape_str().c_str(), (long long)n);
    Shape os = x.shape();
    os[d] = k;
    Tensor vals = Tensor::empty(os, DType::F32, device_of(kt)), idx = Tensor::empty(os, DType::I64, device_of(kt));
    if (kt) VSD_RUN(*kt, sort_lines)(vals.data(), idx.i64(), x.data(), outer, n, inner, k, descending);
    else sort_cpu(vals.data(), idx.i64(), x.data(), outer, n, inner, k, descending);
    // backward: each output position came from one input position; send the gradient back there
    record(name, {x}, vals, [x, vals, idx, outer, n, k, inner, kt]() mutable {
        if (kt) VSD_RUN(*kt, gather_backward)(x.grad(), vals.grad(), idx.i64(), outer, n, k, inner);
        else gather_backward_cpu(x.grad(), vals.grad(), idx.i64(), outer, n, k, inner);
    });
    return {vals, idx};
}

std::pair<Tensor, Tensor> sort(const Tensor& x, int dim, bool descending) {
    int d = norm_dim(dim, x.ndim(), "sort");
    return sort_impl("sort", x, x.size(d), d, descending);
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim, bool largest) {
    return sort_impl("topk", x, k, dim, largest);
}

}  // namespace vsd
