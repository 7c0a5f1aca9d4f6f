// embedding.cpp — rows of a table by id (kernels/embedding.h).
#include "../../kernels/embedding.h"
#include "../../kernels/gather.h"  // scatter_add_rows: the backward
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
    if (k) {
        // one upload: the ids, then the backward's plan (kernels/gather.h: each word's rows, summed in
        // a fixed order, not scattered with atomics), when a gradient is wanted
        std::vector<int64_t> words = iv;
        int64_t U = 0;
        if (table.needs_grad() && grad_enabled()) {
            const std::vector<int64_t> plan = scatter_plan(iv.data(), rows, V);
            U = plan[0];
            words.insert(words.end(), plan.begin(), plan.end());
        }
        Tensor dev = Tensor::from_i64({(int64_t)words.size()}, words).to(Device::CUDA);
        VSD_RUN(*k, embedding_forward)(y.data(), table.data(), dev.i64(), rows, D);
        record("embedding", {table}, y, [table, y, dev, U, rows, V, D, k]() mutable {
            VSD_RUN(*k, scatter_add_rows)(table.grad(), y.grad(), dev.i64() + rows, U, 1, V, rows, D);
        });
        return y;
    }
    embedding_forward_cpu(y.data(), table.data(), iv.data(), rows, D);
    record("embedding", {table}, y, [table, y, iv, rows, D]() mutable {
        embedding_backward_cpu(table.grad(), y.grad(), iv.data(), rows, D);
    });
    return y;
}

}  // namespace vsd
