// cuda_kernels.h — the launchers of kernels/*.cu, declared for both builds:
//   vsd::sim::...   the kernels running in the CPU emulator (always built; CI's parity tests)
//   vsd::cuda::...  the same kernels compiled by nvcc (CUDA builds; run when a GPU exists)
// All pointers are device pointers (host memory in the emulator). `version` picks one rung of a
// file's version ladder (see each .cu header).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "elementwise.h"

namespace vsd {
struct PoolStats {
    size_t in_use_bytes = 0, cached_bytes = 0, peak_bytes = 0;
    int64_t mallocs = 0, hits = 0;
};
}  // namespace vsd

#define VSD_DECLARE_CUDA_KERNELS                                                                              \
    /* memory_pool.cu: raw device memory, and the caching device allocator */                               \
    void* device_malloc(size_t bytes);                                                                       \
    void device_free(void* p);                                                                               \
    void copy_to_device(void* dst, const void* src, size_t bytes);                                          \
    void copy_to_host(void* dst, const void* src, size_t bytes);                                            \
    void copy_on_device(void* dst, const void* src, size_t bytes);                                          \
    void device_zero(void* p, size_t bytes);                                                                 \
    void* pool_alloc(size_t bytes);                                                                          \
    void pool_free(void* p);                                                                                 \
    void pool_empty_cache();                                                                                 \
    PoolStats pool_stats();                                                                                  \
    std::string pool_stats_str();                                                                            \
    /* l2norm.cu */                                                                                          \
    void l2norm_forward(float* y, float* norm, const float* x, int64_t rows, int64_t n, float eps, int version); \
    void l2norm_backward(float* dx, const float* dy, const float* x, const float* norm, int64_t rows, int64_t n, float eps); \
    /* reduce.cu */                                                                                          \
    void rowsum_forward(float* y, const float* x, int64_t rows, int64_t n, float scale, int version);        \
    /* softmax.cu */                                                                                         \
    void softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n, bool log, int version); \
    void softmax_backward(float* dx, const float* dy, const float* y, const float* mask, int64_t rows, int64_t n, bool log); \
    /* layernorm.cu */                                                                                       \
    void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,   \
                           int64_t rows, int64_t n, float eps);                                              \
    void layernorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean, \
                            const float* rstd, const float* w, int64_t rows, int64_t n);                     \
    /* kmeans.cu: dots (N, K), cnorm2 (K,), sums (K, D), counts (K,) are scratch buffers */                \
    void kmeans_assign(int64_t* assign, float* dist2, const float* X, const float* xnorm2, const float* C,     \
                       float* dots, float* cnorm2, int64_t N, int64_t K, int64_t D);                           \
    void kmeans_update(float* C, float* counts, float* sums, const float* X, const int64_t* assign, int64_t N,  \
                       int64_t K, int64_t D);                                                                 \
    void sqnorm_rows(float* out, const float* x, int64_t rows, int64_t D);                                   \
    /* tensor_ops.cu: broadcasting, reductions along a dim, selections, gathers, permutes, copies */         \
    void binary_forward(Binary op, float* out, const float* a, const float* b, const Broadcast& bc);          \
    void binary_backward(Binary op, float* da, float* db, const float* dout, const float* a, const float* b,  \
                         const Broadcast& bc);                                                                \
    void sum_dim(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, float scale);            \
    void max_dim(float* y, int64_t* idx, const float* x, int64_t outer, int64_t n, int64_t inner);           \
    void masked_fill(float* out, const float* x, const float* mask, float value, const Broadcast& bc);        \
    void where(float* out, const float* cond, const float* a, const float* b, const Broadcast& bc);          \
    void gather(float* out, const float* x, const int64_t* index, int64_t outer, int64_t n, int64_t m,       \
                int64_t inner);                                                                               \
    void gather_backward(float* dx, const float* dout, const int64_t* index, int64_t outer, int64_t n,       \
                         int64_t m, int64_t inner);                                                           \
    void permute(float* out, const float* in, const int64_t in_shape[4], const int perm[4]);                 \
    void slab_copy(float* dst, int64_t dst_n, int64_t dst_start, const float* src, int64_t src_n,            \
                   int64_t src_start, int64_t len, int64_t outer, int64_t inner, bool accumulate);            \
    void dropout_forward(float* y, const float* x, int64_t n, float p, uint64_t seed);                       \
    void dropout_backward(float* dx, const float* dy, int64_t n, float p, uint64_t seed);                    \
    void cdist(float* out, const float* a, const float* b, int64_t N, int64_t M, int64_t D);                 \
    void cdist_backward(float* da, float* db, const float* dout, const float* out, const float* a,           \
                        const float* b, int64_t N, int64_t M, int64_t D);                                     \
    /* nn_ops.cu: batchnorm, sort/top-k, the GRU's per-step gates, AdamW */                                  \
    void batchnorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,   \
                           float* rmean, float* rvar, int64_t N, int64_t C, bool training, float momentum,     \
                           float eps);                                                                        \
    void batchnorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* mean, \
                            const float* rstd, const float* w, int64_t N, int64_t C, bool training);          \
    void sort_lines(float* values, int64_t* indices, const float* x, int64_t outer, int64_t n, int64_t inner,   \
                    int64_t k, bool descending);                                                              \
    void gru_gates_forward(float* y, float* h, float* r, float* z, float* n, float* hn, float* hprev,          \
                           const float* gx, const float* gh, const float* b_hh, const int64_t* pos, int64_t B, \
                           int64_t T, int64_t H);                                                             \
    void gru_gates_backward(float* dgx, float* dgh, float* dh, const float* dy, const float* r, const float* z, \
                            const float* n, const float* hn, const float* hprev, const int64_t* pos, int64_t B, \
                            int64_t T, int64_t H);                                                            \
    void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2,   \
                      float eps, float wd, float bc1, float bc2_sqrt);                                        \
    /* relation.cu: HREM's fused region-word statistics (forward only) */                                \
    void region_word_stats(float* mean_t2i, float* topk_t2i, float* mean_i2t, float* topk_i2t, const float* psi_hat, \
                           const float* phi_hat, const int64_t* cap_len, int64_t Bt, int64_t L, int64_t Bi,        \
                           int64_t R, int64_t E, int K, float slope, float eps);                               \
    /* attention.cu: fused multi-head attention, forward only (inference) */                             \
    void attention_forward(float* out, const float* q, const float* k, const float* v, const float* keep,   \
                           int64_t B, int64_t L, int64_t A, int64_t d, float scale);                         \
    /* embedding.cu */                                                                                       \
    void embedding_forward(float* out, const float* table, const int64_t* ids, int64_t rows, int64_t D);     \
    void embedding_backward(float* dtable, const float* dout, const int64_t* ids, int64_t rows, int64_t D);  \
    /* elementwise.cu */                                                                                     \
    void unary_forward(Unary op, float* y, const float* x, int64_t n, float a, float b);                     \
    void unary_backward(Unary op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a, float b); \
    /* gemm.cu: row-major C = alpha op(A) op(B) + beta C; version 1 naive, 2 tiled, 3 cuBLAS */              \
    void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,   \
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int version);                 \
    void gemm_set_tf32(bool on); /* version 3 may use TF32 tensor cores (the emulator rounds like them) */ \
    /* batch products: operand t at A + t*strideA, B + t*strideB (0: shared), C + t*strideC */         \
    void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,        \
                      int64_t lda, int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, \
                      float* C, int64_t ldc, int64_t strideC, int64_t batch, int version);

// Every name above, for tables of function pointers (src/core/backend.h, the parity tests).
#define VSD_KERNEL_NAMES(F)                                                                                   \
    F(device_malloc) F(device_free) F(copy_to_device) F(copy_to_host) F(copy_on_device) F(device_zero)        \
    F(pool_alloc) F(pool_free) F(pool_empty_cache) F(pool_stats) F(pool_stats_str) F(l2norm_forward)          \
    F(l2norm_backward) F(rowsum_forward) F(softmax_forward) F(softmax_backward) F(layernorm_forward)          \
    F(layernorm_backward) F(kmeans_assign) F(kmeans_update) F(sqnorm_rows) F(binary_forward) F(binary_backward) \
    F(sum_dim) F(max_dim) F(masked_fill) F(where) F(gather) F(gather_backward) F(permute) F(slab_copy)       \
    F(dropout_forward) F(dropout_backward) F(cdist) F(cdist_backward) F(batchnorm_forward) F(batchnorm_backward) F(sort_lines) F(gru_gates_forward)   \
    F(gru_gates_backward) F(adamw_update) F(region_word_stats) F(attention_forward) F(embedding_forward) F(embedding_backward)      \
    F(unary_forward) F(unary_backward) F(gemm) F(gemm_set_tf32) F(gemm_batched)

namespace vsd {
namespace sim {
VSD_DECLARE_CUDA_KERNELS
// the emulator's stand-in for cublasSgemm: column-major, exactly cuBLAS's argument semantics
void cublas_sgemm_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A, int lda,
                           const float* B, int ldb, float beta, float* C, int ldc);
// and for cublasSgemmStridedBatched
void cublas_sgemm_strided_batched_colmajor(bool transa, bool transb, int m, int n, int k, float alpha, const float* A,
                                           int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                                           float beta, float* C, int ldc, int64_t strideC, int batch);
}  // namespace sim
#ifdef USE_CUDA
namespace cuda {
VSD_DECLARE_CUDA_KERNELS
}
#endif
}  // namespace vsd
