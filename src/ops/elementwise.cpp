// elementwise.cpp — unary maps, scalar ops, and broadcasting binary ops (kernels/elementwise).
#include "../../kernels/elementwise.h"

#include "util.h"

namespace vsd {

Broadcast make_broadcast(const char* op, const Shape& a, const Shape& b, Shape* out) {
    ENSURE(a.size() <= 4 && b.size() <= 4, "%s: at most 4 dims, got %s and %s", op, shape_str(a).c_str(),
          shape_str(b).c_str());
    size_t nd = std::max(a.size(), b.size());
    Shape os(nd);
    Broadcast bc;
    int64_t stride_a = 1, stride_b = 1;
    // walk dims from the right; frame dim 3 is the last dim
    for (int k = 0; k < 4; k++) {
        int fd = 3 - k;  // frame dim
        int64_t da = k < (int)a.size() ? a[a.size() - 1 - k] : 1;
        int64_t db = k < (int)b.size() ? b[b.size() - 1 - k] : 1;
        ENSURE(da == db || da == 1 || db == 1, "%s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)", op,
              shape_str(a).c_str(), shape_str(b).c_str(), (int)nd - 1 - k, (long long)da, (long long)db);
        int64_t d = da == 1 ? db : da;
        bc.shape[fd] = d;
        bc.sa[fd] = da == 1 ? 0 : stride_a;
        bc.sb[fd] = db == 1 ? 0 : stride_b;
        stride_a *= da;
        stride_b *= db;
        if (k < (int)nd) os[nd - 1 - k] = d;
    }
    *out = os;
    return bc;
}

static Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
    const char* name = binary_name(op);
    const Backend* k = op_device(name, {a, b});
    check_f32(name, a, "a");
    check_f32(name, b, "b");
    Shape os;
    Broadcast bc = make_broadcast(name, a.shape(), b.shape(), &os);
    Tensor out = Tensor::empty(os, DType::F32, device_of(k));
    if (k) VSD_RUN(*k, binary_forward)(op, out.data(), a.data(), b.data(), bc);
    else binary_forward_cpu(op, out.data(), a.data(), b.data(), bc);
    record(name, {a, b}, out, [op, a, b, out, bc, k]() mutable {
        float* da = a.needs_grad() ? a.grad() : nullptr;
        float* db = b.needs_grad() ? b.grad() : nullptr;
        if (k) VSD_RUN(*k, binary_backward)(op, da, db, out.grad(), a.data(), b.data(), bc);
        else binary_backward_cpu(op, da, db, out.grad(), a.data(), b.data(), bc);
    });
    return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::Div, a, b); }

static Tensor unary(Unary op, const Tensor& x, float pa = 0.0f, float pb = 0.0f) {
    const char* name = unary_name(op);
    const Backend* k = op_device(name, {x});
    check_f32(name, x, "input");
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    if (k) VSD_RUN(*k, unary_forward)(op, y.data(), x.data(), x.numel(), pa, pb);
    else unary_forward_cpu(op, y.data(), x.data(), x.numel(), pa, pb);
    record(name, {x}, y, [op, x, y, pa, pb, k]() mutable {
        if (k) VSD_RUN(*k, unary_backward)(op, x.grad(), y.grad(), x.data(), y.data(), x.numel(), pa, pb);
        else unary_backward_cpu(op, x.grad(), y.grad(), x.data(), y.data(), x.numel(), pa, pb);
    });
    return y;
}

Tensor add_scalar(const Tensor& x, float s) { return unary(Unary::AddScalar, x, s); }
Tensor mul_scalar(const Tensor& x, float s) { return unary(Unary::MulScalar, x, s); }
Tensor exp(const Tensor& x) { return unary(Unary::Exp, x); }
Tensor log(const Tensor& x) { return unary(Unary::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(Unary::Sqrt, x); }
Tensor pow(const Tensor& x, float p) { return unary(Unary::Pow, x, p); }
Tensor abs(const Tensor& x) { return unary(Unary::Abs, x); }
Tensor clamp(const Tensor& x, float lo, float hi) {
    ENSURE(lo <= hi, "clamp: lower bound %g is above upper bound %g", lo, hi);
    return unary(Unary::Clamp, x, lo, hi);
}
Tensor relu(const Tensor& x) { return unary(Unary::Relu, x); }
Tensor leaky_relu(const Tensor& x, float slope) { return unary(Unary::LeakyRelu, x, slope); }
Tensor gelu(const Tensor& x) { return unary(Unary::Gelu, x); }
Tensor tanh(const Tensor& x) { return unary(Unary::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(Unary::Sigmoid, x); }
Tensor quick_gelu(const Tensor& x) { return unary(Unary::QuickGelu, x); }

Tensor to_float(const Tensor& x) {
    if (x.dtype() == DType::F32) return x.detach().clone();
    const Backend* k = op_device("to_float", {x});
    Tensor y = Tensor::empty(x.shape(), DType::F32, device_of(k));
    const int64_t n = x.numel();
    if (x.dtype() == DType::I64) {
        if (k) VSD_RUN(*k, i64_to_float)(y.data(), x.i64(), n);
        else to_float_cpu(y.data(), x.i64(), n);
    } else {
        if (k) VSD_RUN(*k, i32_to_float)(y.data(), x.i32(), n);
        else to_float_cpu(y.data(), x.i32(), n);
    }
    return y;
}

}  // namespace vsd
