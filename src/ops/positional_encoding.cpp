// positional_encoding.cpp — GPO's sinusoidal position codes, made on the lengths' device
// (kernels/positional_encoding.h). No gradient: a constant of the batch.
#include "../../kernels/positional_encoding.h"
#include "util.h"

namespace vsd {

Tensor positional_encoding(const Tensor& lengths, int64_t N, int64_t P) {
    const Backend* k = op_device("positional_encoding", {lengths});
    ENSURE(lengths.ndim() <= 1, "positional_encoding: lengths must be (B,), got %s", lengths.shape_str().c_str());
    ENSURE(N >= 0 && P >= 0 && P % 2 == 0, "positional_encoding: width %lld and an even size %lld expected", (long long)N,
           (long long)P);
    const int64_t B = lengths.numel();
    Tensor pe = Tensor::empty({B, N, P}, DType::F32, device_of(k));
    if (k) {
        VSD_RUN(*k, positional_encoding)(pe.data(), device_i64("positional_encoding", lengths, INT64_MAX).i64(), B, N, P);
    } else {
        const std::vector<int64_t> len = index_values("positional_encoding", lengths, INT64_MAX);
        positional_encoding_cpu(pe.data(), len.data(), B, N, P);
    }
    return pe;
}

}  // namespace vsd
