// The CUDA emulator itself: barriers, warp lock-step, shared memory, and the errors it must raise
// instead of hanging. This file is compiled with the emulator header, like a kernel file.
#include "../kernels/sim/cuda_sim.h"
#include "helpers.h"

__global__ void k_block_reverse(float* out, const float* in) {  // needs the barrier to be real
    __shared__ float s[64];
    const int t = threadIdx.x;
    s[t] = in[blockIdx.x * 64 + t];
    __syncthreads();
    out[blockIdx.x * 64 + t] = s[63 - t];
}

__global__ void k_shuffles(int* out) {
    const int lane = threadIdx.x % 32;
    int v = lane * 10;
    int x = __shfl_xor_sync(0xffffffffu, v, 1);     // swap neighbours
    int b = __shfl_sync(0xffffffffu, v, 5);          // broadcast lane 5
    float d = __shfl_down_sync(0xffffffffu, (float)v, 4);
    unsigned ballot = __ballot_sync(0xffffffffu, lane % 3 == 0);
    out[threadIdx.x * 4 + 0] = x;
    out[threadIdx.x * 4 + 1] = b;
    out[threadIdx.x * 4 + 2] = (int)d;
    out[threadIdx.x * 4 + 3] = (int)(ballot & 0xffff);
}

__global__ void k_early_exit_barrier(float* out) {
    if (threadIdx.x >= 16) return;  // bug: half the block never reaches the barrier
    __syncthreads();
    out[threadIdx.x] = 1.0f;
}

__global__ void k_partial_warp_shuffle(float* out) {
    if (threadIdx.x % 32 >= 8) return;  // bug: a shuffle with most lanes gone
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

__global__ void k_atomic(float* acc, int* count) {
    atomicAdd(acc, 0.5f);
    atomicAdd(count, 1);
}

__global__ void k_dims(int* out) {
    out[(blockIdx.y * gridDim.x + blockIdx.x) * 6 + threadIdx.y * blockDim.x + threadIdx.x] =
        (int)(blockIdx.y * 1000 + blockIdx.x * 100 + threadIdx.y * 10 + threadIdx.x);
}

__global__ void k_dynamic_shared(float* out, int n) {
    VSD_DYNAMIC_SHARED(float, buf);
    buf[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = buf[n - 1 - threadIdx.x];
}

TEST_CASE("emulator: __syncthreads is a real barrier; shared memory is per block") {
    std::vector<float> in(3 * 64), out(3 * 64, NAN);
    for (int i = 0; i < 3 * 64; i++) in[i] = (float)i;
    VSD_LAUNCH(k_block_reverse, 3, 64, 0, out.data(), in.data());
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < 64; t++) CHECK(out[b * 64 + t] == in[b * 64 + 63 - t]);
}

TEST_CASE("emulator: warp shuffles and ballots exchange values in lock-step") {
    std::vector<int> out(64 * 4, -1);
    VSD_LAUNCH(k_shuffles, 1, 64, 0, out.data());
    for (int t = 0; t < 64; t++) {
        int lane = t % 32;
        CHECK(out[t * 4 + 0] == (lane ^ 1) * 10);
        CHECK(out[t * 4 + 1] == 50);
        CHECK(out[t * 4 + 2] == (lane + 4 < 32 ? (lane + 4) * 10 : lane * 10));  // past the end: own value
        CHECK(out[t * 4 + 3] == (int)(0x9249u & 0xffff));                          // lanes 0, 3, 6, ...
    }
}

TEST_CASE("emulator: a barrier or a shuffle reached by only some threads is an error, not a hang") {
    std::vector<float> out(64, 0);
    CHECK_THROWS_WITH(VSD_LAUNCH(k_early_exit_barrier, 1, 32, 0, out.data()),
                      doctest::Contains("k_early_exit_barrier: block (0, 0, 0): __syncthreads reached by 16 of 32 threads"));
    CHECK_THROWS_WITH(VSD_LAUNCH(k_partial_warp_shuffle, 1, 32, 0, out.data()),
                      doctest::Contains("a warp intrinsic was reached by 8 of 32 lanes"));
    CHECK_THROWS_WITH(VSD_LAUNCH(k_block_reverse, 1, 2048, 0, out.data(), out.data()), doctest::Contains("a block of 2048 threads"));
}

TEST_CASE("emulator: atomics, 2-d grids and blocks, dynamic shared memory, runtime calls") {
    float acc = 0;
    int count = 0;
    VSD_LAUNCH(k_atomic, 4, 96, 0, &acc, &count);
    CHECK(acc == 192.0f);
    CHECK(count == 384);
    std::vector<int> out(2 * 3 * 6, -1);
    VSD_LAUNCH(k_dims, dim3(3, 2), dim3(3, 2), 0, out.data());
    CHECK(out[(1 * 3 + 2) * 6 + 1 * 3 + 2] == 1000 + 200 + 10 + 2);
    for (int v : out) CHECK(v >= 0);
    std::vector<float> o(40, NAN);
    VSD_LAUNCH(k_dynamic_shared, 1, 40, 40 * sizeof(float), o.data(), 40);
    CHECK(o[0] == 39.0f);
    CHECK(o[39] == 0.0f);
    void* p = nullptr;
    CHECK(cudaMalloc(&p, 16) == cudaSuccess);
    CHECK(cudaMemset(p, 0, 16) == cudaSuccess);
    CHECK(((int*)p)[3] == 0);
    CHECK(cudaFree(p) == cudaSuccess);
}
