// gather.cpp — gather and index_select along a dim; their backwards scatter-add (kernels/gather.h).
#include "../../kernels/gather.h"
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

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
    const Backend* k = op_device("gather", {x});  // the index may live on either side
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
    if (k) VSD_RUN(*k, gather)(y.data(), x.data(), di.i64(), outer, n, m, inner);
    else gather_cpu(y.data(), x.data(), iv.data(), outer, n, m, inner);
    record("gather", {x}, y, [x, y, iv, di, outer, n, m, inner, k]() mutable {
        if (k) VSD_RUN(*k, gather_backward)(x.grad(), y.grad(), di.i64(), outer, n, m, inner);
        else gather_backward_cpu(x.grad(), y.grad(), iv.data(), outer, n, m, inner);
    });
    return y;
}

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
    const Backend* k = op_device("index_select", {x});
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
    if (k) {  // on the device: a gather with the index spelled out for every (outer, j, inner)
        std::vector<int64_t> full(outer * m * inner);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < m; j++)
                for (int64_t i = 0; i < inner; i++) full[(o * m + j) * inner + i] = iv[j];
        Tensor di = Tensor::from_i64({(int64_t)full.size()}, full).to(Device::CUDA);
        VSD_RUN(*k, gather)(y.data(), x.data(), di.i64(), outer, n, m, inner);
    } else {
        index_select_cpu(y.data(), x.data(), iv.data(), outer, n, m, inner);
    }
    // the backward on the device sums each destination's sources in a fixed order (scatter_plan)
    Tensor plan;
    int64_t U = 0;
    if (k && x.needs_grad() && grad_enabled()) {
        const std::vector<int64_t> words = scatter_plan(iv.data(), m, n);
        U = words[0];
        plan = Tensor::from_i64({(int64_t)words.size()}, words).to(Device::CUDA);
    }
    record("index_select", {x}, y, [x, y, iv, plan, U, outer, n, m, inner, k]() mutable {
        if (k) VSD_RUN(*k, scatter_add_rows)(x.grad(), y.grad(), plan.i64(), U, outer, n, m, inner);
        else index_select_backward_cpu(x.grad(), y.grad(), iv.data(), outer, n, m, inner);
    });
    return y;
}

}  // namespace vsd
