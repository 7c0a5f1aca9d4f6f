// shape.cpp — reshape, narrow, concat, permute, transpose (kernels/shape.h: slab_copy, permute).
#include "../../kernels/shape.h"
#include "util.h"

namespace vsd {

Tensor reshape(const Tensor& x, const Shape& shape_in) {
    Shape s = shape_in;
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == -1) {
            ENSURE(infer < 0, "reshape: only one -1 allowed in %s", shape_str(s).c_str());
            infer = (int)i;
        } else {
            known *= s[i];
        }
    }
    if (infer >= 0) {
        ENSURE(known > 0 && x.numel() % known == 0, "reshape: cannot infer -1 in %s for %s", shape_str(s).c_str(),
              x.shape_str().c_str());
        s[infer] = x.numel() / known;
    }
    ENSURE(shape_numel(s) == x.numel(), "reshape: %s has %lld elements, %s has %lld", x.shape_str().c_str(),
          (long long)x.numel(), shape_str(s).c_str(), (long long)shape_numel(s));
    Tensor y = x.view_as_shape(s);  // shares x's bytes; its own gradient buffer
    record_view("reshape", x, y, [x, y]() mutable {
        if (x.adopt_grad(y)) return;  // nothing else reached x yet: y's gradient is x's, as it stands
        float* dx = x.grad();
        const float* dy = y.grad();
        if (x.is_cuda()) return x.backend().accumulate(dx, dy, x.numel());
        for (int64_t i = 0; i < x.numel(); i++) dx[i] += dy[i];
    });
    return y;
}

Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length) {
    const Backend* k = op_device("narrow", {x});
    int d = norm_dim(dim, x.ndim(), "narrow");
    ENSURE(start >= 0 && length >= 0 && start + length <= x.size(d),
          "narrow: [%lld, %lld) is outside dim %d of %s", (long long)start, (long long)(start + length), dim,
          x.shape_str().c_str());
    int64_t outer, n, inner;
    split_at(x.shape(), d, outer, n, inner);
    Shape os = x.shape();
    os[d] = length;
    Tensor y;
    if (outer == 1 && x.dtype() == DType::F32) {
        // the slice is one contiguous block: a view, no copy
        y = x.view_as_shape({n, inner}).view_rows(start, length).view_as_shape(os);
    } else {
        check_f32("narrow", x, "input");
        y = Tensor::empty(os, DType::F32, device_of(k));
        if (k) VSD_RUN(*k, slab_copy)(y.data(), length, 0, x.data(), n, start, length, outer, inner, false);
        else slab_copy_cpu(y.data(), length, 0, x.data(), n, start, length, outer, inner, false);
    }
    if (x.dtype() != DType::F32) return y;
    record("narrow", {x}, y, [x, y, n, start, length, outer, inner, k]() mutable {
        if (k) VSD_RUN(*k, slab_copy)(x.grad(), n, start, y.grad(), length, 0, length, outer, inner, true);
        else slab_copy_cpu(x.grad(), n, start, y.grad(), length, 0, length, outer, inner, true);
    });
    return y;
}

Tensor concat(const std::vector<Tensor>& xs, int dim) {
    ENSURE(!xs.empty(), "concat: no tensors given");
    const Tensor& first = xs[0];
    int d = norm_dim(dim, first.ndim(), "concat");
    int64_t total = 0;
    const Backend* k = op_device("concat", {first});
    for (const Tensor& t : xs) {
        ENSURE(op_device("concat", {first, t}) == k, "concat: inputs on different devices");
        check_f32("concat", t, "input");
        bool same = t.ndim() == first.ndim();
        for (int i = 0; same && i < t.ndim(); i++) same = (i == d) || t.size(i) == first.size(i);
        ENSURE(same, "concat: %s does not match %s except along dim %d", t.shape_str().c_str(),
              first.shape_str().c_str(), dim);
        total += t.size(d);
    }
    Shape os = first.shape();
    os[d] = total;
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    int64_t outer, n, inner;
    split_at(os, d, outer, n, inner);
    std::vector<int64_t> starts;
    int64_t at = 0;
    for (const Tensor& t : xs) {
        starts.push_back(at);
        if (k) VSD_RUN(*k, slab_copy)(y.data(), total, at, t.data(), t.size(d), 0, t.size(d), outer, inner, false);
        else slab_copy_cpu(y.data(), total, at, t.data(), t.size(d), 0, t.size(d), outer, inner, false);
        at += t.size(d);
    }
    record("concat", xs, y, [xs, y, starts, d, total, outer, inner, k]() mutable {
        for (size_t j = 0; j < xs.size(); j++) {
            Tensor t = xs[j];
            if (!t.needs_grad()) continue;
            if (k) VSD_RUN(*k, slab_copy)(t.grad(), t.size(d), 0, y.grad(), total, starts[j], t.size(d), outer, inner, true);
            else slab_copy_cpu(t.grad(), t.size(d), 0, y.grad(), total, starts[j], t.size(d), outer, inner, true);
        }
    });
    return y;
}

Tensor permute(const Tensor& x, const std::vector<int>& perm_in) {
    const Backend* k = op_device("permute", {x});
    check_f32("permute", x, "input");
    const int nd = x.ndim();
    ENSURE((int)perm_in.size() == nd, "permute: %zu axes given for %s", perm_in.size(), x.shape_str().c_str());
    // pad to 4 dims with leading size-1 axes that stay in place
    int64_t in_shape[4] = {1, 1, 1, 1};
    int perm[4] = {0, 1, 2, 3}, inv[4] = {0, 1, 2, 3};
    const int pad = 4 - nd;
    bool seen[4] = {false, false, false, false};
    Shape os(nd);
    for (int k = 0; k < nd; k++) {
        in_shape[pad + k] = x.size(k);
        int p = norm_dim(perm_in[k], nd, "permute");
        ENSURE(!seen[p], "permute: axis %d repeated", p);
        seen[p] = true;
        perm[pad + k] = pad + p;
        os[k] = x.size(p);
    }
    for (int k = 0; k < 4; k++) inv[perm[k]] = k;
    int64_t out_shape[4];
    for (int k = 0; k < 4; k++) out_shape[k] = in_shape[perm[k]];
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, permute)(y.data(), x.data(), in_shape, perm, false);
    else permute_cpu(y.data(), x.data(), in_shape, perm, false);
    std::vector<int64_t> osv(out_shape, out_shape + 4);
    std::vector<int> invv(inv, inv + 4);
    record("permute", {x}, y, [x, y, osv, invv, k]() mutable {
        // the gradient goes back through the inverse permutation, added to x's
        if (!k) return permute_cpu(x.grad(), y.grad(), osv.data(), invv.data(), true);
        VSD_RUN(*k, permute)(x.grad(), y.grad(), osv.data(), invv.data(), true);
    });
    return y;
}

Tensor transpose(const Tensor& x, int d0, int d1) {
    std::vector<int> perm(x.ndim());
    for (int i = 0; i < x.ndim(); i++) perm[i] = i;
    std::swap(perm[norm_dim(d0, x.ndim(), "transpose")], perm[norm_dim(d1, x.ndim(), "transpose")]);
    return permute(x, perm);
}

}  // namespace vsd
