// embedding.cpp — rows of a table by id (kernels/embedding.h).
#include "../../kernels/embedding.h"
#include "util.h"

namespace vsd {

Tensor embedding(const Tensor& ids, const Tensor& table) {
    const Backend* k = op_device("embedding", {table});  // ids may live on either side
    ENSURE(ids.dtype() != DType::F32, "embedding: ids must be an integer tensor, got float32 %s", ids.shape_str().c_str());
    ENSURE(table.ndim() == 2, "embedding: table must be (V, D), got %s", table.shape_str().c_str());
    ENSURE(ids.ndim() < 4, "embedding: ids can have at most 3 dims, got %s", ids.shape_str().c_str());
    const int64_t V = table.size(0), D = table.size(1), rows = ids.numel();
    std::vector<int64_t> iv = index_values("embedding", ids.to(Device::CPU), V);  // range-checked on the host
    Shape os = ids.shape();
    os.push_back(D);
    Tensor y = Tensor::empty(os, DType::F32, device_of(k));
    Tensor dev_ids;
    if (k) {
        dev_ids = Tensor::from_i64({rows}, iv).to(Device::CUDA);
        VSD_RUN(*k, embedding_forward)(y.data(), table.data(), dev_ids.i64(), rows, D);
    } else {
        embedding_forward_cpu(y.data(), table.data(), iv.data(), rows, D);
    }
    record("embedding", {table}, y, [table, y, iv, dev_ids, rows, D, k]() mutable {
        if (k) VSD_RUN(*k, embedding_backward)(table.grad(), y.grad(), dev_ids.i64(), rows, D);
        else embedding_backward_cpu(table.grad(), y.grad(), iv.data(), rows, D);
    });
    return y;
}

}  // namespace vsd
