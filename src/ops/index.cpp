// index.cpp — masked_fill, where, gather, index_select, sort, topk, cdist (kernels/index).
#include "../../kernels/index.h"

#include "util.h"

namespace vsd {

std::vector<int64_t> index_values(const char* op, const Tensor& idx, int64_t limit) {
    ENSURE(idx.dtype() == DType::I32 || idx.dtype() == DType::I64, "%s: index must be int32 or int64, got %s", op,
          dtype_name(idx.dtype()));
    std::vector<int64_t> v(idx.numel());
    for (int64_t i = 0; i < idx.numel(); i++) {
        v[i] = idx.index_at(i);
        ENSURE(v[i] >= 0 && v[i] < limit, "%s: index %lld at position %lld is outside [0, %lld)", op, (long long)v[i],
              (long long)i, (long long)limit);
    }
    return v;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
    const KernelTable* k = op_device("masked_fill", {x});  // the mask follows x
    check_f32("masked_fill", x, "input");
    Shape os;
    Broadcast bc = make_broadcast("masked_fill", x.shape(), mask.shape(), &os);
    ENSURE(os == x.shape(), "masked_fill: mask %s must broadcast to the input's shape %s", mask.shape_str().c_str(),
          x.shape_str().c_str());
    Tensor m = to_float(mask).to(x.device());
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) k->masked_fill(y.data(), x.data(), m.data(), value, bc);
    else masked_fill_cpu(y.data(), x.data(), m.data(), value, bc);
    record("masked_fill", {x}, y, [x, y, m, bc, k]() mutable {
        if (!k) return masked_fill_backward_cpu(x.grad(), y.grad(), m.data(), bc);
        // dx += dy where the mask is 0: fill a copy of dy with 0 where it is set, then accumulate
        Tensor tmp = Tensor::empty(x.shape(), DType::F32, Device::CUDA);
        k->masked_fill(tmp.data(), y.grad(), m.data(), 0.0f, bc);
        dev_accumulate(*k, x.grad(), tmp.data(), x.numel());
    });
    return y;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    const KernelTable* k = op_device("where", {a, b});  // the condition follows a and b
    check_f32("where", a, "a");
    check_f32("where", b, "b");
    ENSURE(a.shape() == b.shape(), "where: a %s and b %s must have the same shape", a.shape_str().c_str(),
          b.shape_str().c_str());
    Shape os;
    Broadcast bc = make_broadcast("where", a.shape(), cond.shape(), &os);
    ENSURE(os == a.shape(), "where: condition %s must broadcast to %s", cond.shape_str().c_str(), a.shape_str().c_str());
    Tensor c = to_float(cond).to(a.device());
    Tensor y = Tensor::empty(a.shape(), DType::F32, device_of(k));
    if (k) k->where(y.data(), c.data(), a.data(), b.data(), bc);
    else where_cpu(y.data(), c.data(), a.data(), b.data(), bc);
    record("where", {a, b}, y, [a, b, y, c, bc, k]() mutable {
        if (!k)
            return where_backward_cpu(a.needs_grad() ? a.grad() : nullptr, b.needs_grad() ? b.grad() : nullptr, y.grad(),
                                      c.data(), bc);
        // da += where(c, dy, 0), db += where(c, 0, dy)
        const int64_t n = a.numel();
        Tensor zero = Tensor::zeros(a.shape(), DType::F32, Device::CUDA), tmp = Tensor::empty(a.shape(), DType::F32, Device::CUDA);
        if (a.needs_grad()) {
            k->where(tmp.data(), c.data(), y.grad(), zero.data(), bc);
            dev_accumulate(*k, a.grad(), tmp.data(), n);
        }
        if (b.needs_grad()) {
            k->where(tmp.data(), c.data(), zero.data(), y.grad(), bc);
            dev_accumulate(*k, b.grad(), tmp.data(), n);
        }
    });
    return y;
}

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
    const KernelTable* k = op_device("gather", {x});  // the index may live on either side
    check_f32("gather", x, "input");
    int d = norm_dim(dim, x.ndim(), "gather");
    bool ok = index.ndim() == x.ndim();
    for (int i = 0; ok && i < x.ndim(); i++) ok = i == d || index.size(i) == x.size(i);
    ENSURE(ok, "gather: index %s must match input %s on every dim except %d", index.shape_str().c_str(),
          x.shape_str().c_str(), dim);
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    const int64_t m = index.size(d);
    std::vector<int64_t> iv = index_values("gather", index.to(Device::CPU), n);
    Tensor y = Tensor::empty(index.shape(), DType::F32, device_of(k));
    Tensor di = k ? Tensor::from_i64({(int64_t)iv.size()}, iv).to(Device::CUDA) : Tensor();
    if (k) k->gather(y.data(), x.data(), di.i64(), outer, n, m, inner);
    else gather_cpu(y.data(), x.data(), iv.data(), outer, n, m, inner);
    record("gather", {x}, y, [x, y, iv, di, outer, n, m, inner, k]() mutable {
        if (k) k->gather_backward(x.grad(), y.grad(), di.i64(), outer, n, m, inner);
        else gather_backward_cpu(x.grad(), y.grad(), iv.data(), outer, n, m, inner);
    });
    return y;
}

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
    const KernelTable* k = op_device("index_select", {x});
    check_f32("index_select", x, "input");
    ENSURE(index.ndim() == 1, "index_select: index must be 1-D, got %s", index.shape_str().c_str());
    int d = norm_dim(dim, x.ndim(), "index_select");
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    const int64_t m = index.numel();
    std::vector<int64_t> iv = index_values("index_select", index.to(Device::CPU), n);
    Shape os = x.shape();
    os[d] = m;
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    Tensor di;
    if (k) {  // on the device: a gather with the index spelled out for every (outer, j, inner)
        std::vector<int64_t> full(outer * m * inner);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < m; j++)
                for (int64_t i = 0; i < inner; i++) full[(o * m + j) * inner + i] = iv[j];
        di = Tensor::from_i64({(int64_t)full.size()}, full).to(Device::CUDA);
        k->gather(y.data(), x.data(), di.i64(), outer, n, m, inner);
    } else {
        index_select_cpu(y.data(), x.data(), iv.data(), outer, n, m, inner);
    }
    record("index_select", {x}, y, [x, y, iv, di, outer, n, m, inner, k]() mutable {
        if (k) k->gather_backward(x.grad(), y.grad(), di.i64(), outer, n, m, inner);
        else index_select_backward_cpu(x.grad(), y.grad(), iv.data(), outer, n, m, inner);
    });
    return y;
}

static std::pair<Tensor, Tensor> sort_impl(const char* name, const Tensor& x, int64_t k, int dim, bool descending) {
    const KernelTable* kt = op_device(name, {x});
    check_f32(name, x, "input");
    int d = norm_dim(dim, x.ndim(), name);
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    ENSURE(k >= 0 && k <= n, "%s: k = %lld but dim %d of %s has %lld elements", name, (long long)k, dim,
          x.shape_str().c_str(), (long long)n);
    Shape os = x.shape();
    os[d] = k;
    Tensor vals = Tensor::empty(os, DType::F32, device_of(kt)), idx = Tensor::empty(os, DType::I64, device_of(kt));
    if (kt) kt->sort_lines(vals.data(), idx.i64(), x.data(), outer, n, inner, k, descending);
    else sort_cpu(vals.data(), idx.i64(), x.data(), outer, n, inner, k, descending);
    // backward: each output position came from one input position; send the gradient back there
    record(name, {x}, vals, [x, vals, idx, outer, n, k, inner, kt]() mutable {
        if (kt) kt->gather_backward(x.grad(), vals.grad(), idx.i64(), outer, n, k, inner);
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

Tensor cdist(const Tensor& a, const Tensor& b) {
    const KernelTable* k = op_device("cdist", {a, b});
    check_f32("cdist", a, "a");
    check_f32("cdist", b, "b");
    ENSURE(a.ndim() == 2 && b.ndim() == 2 && a.size(1) == b.size(1),
          "cdist: expects a (N, D) and b (M, D), got a %s and b %s", a.shape_str().c_str(), b.shape_str().c_str());
    const int64_t N = a.size(0), M = b.size(0), D = a.size(1);
    Tensor y = Tensor::empty({N, M}, DType::F32, device_of(k));
    if (k) k->cdist(y.data(), a.data(), b.data(), N, M, D);
    else cdist_forward_cpu(y.data(), a.data(), b.data(), N, M, D);
    record("cdist", {a, b}, y, [a, b, y, N, M, D, k]() mutable {
        float* da = a.needs_grad() ? a.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) k->cdist_backward(da, db, y.grad(), y.data(), a.data(), b.data(), N, M, D);
        else cdist_backward_cpu(da, db, y.grad(), y.data(), a.data(), b.data(), N, M, D);
    });
    return y;
}

}  // namespace vsd
