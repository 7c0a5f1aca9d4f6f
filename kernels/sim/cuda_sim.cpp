// cuda_sim.cpp — the fiber scheduler behind kernels/sim/cuda_sim.h.
#include "cuda_sim.h"

#include <ucontext.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../../src/core/check.h"
#include "../launch.h"  // device_counters

namespace vsd_sim {

namespace {
enum class State { Ready, AtBlockBarrier, AtWarpSync, Done };

struct Fiber {
    ThreadCtx ctx;
    ucontext_t uc;
    State state = State::Ready;
    std::unique_ptr<char[]> stack;  // not zero-filled: a launch allocates one per thread
};

struct Block {
    std::vector<Fiber> fibers;
    ucontext_t scheduler;
    const std::function<void()>* body = nullptr;
    Fiber* running = nullptr;
    std::vector<float> slot_f;     // warp exchange slots, one per thread
    std::vector<int> slot_i;
    std::vector<char> dyn_shared;
    std::string error;
    const char* kernel = "";
    bool reverse = false;  // fiber order of this launch
};

thread_local uint64_t g_launches = 0;

thread_local Block* g_block = nullptr;
constexpr size_t kStack = 64 * 1024;  // per fiber; our kernels keep little on the stack

void fiber_main() {
    Block* b = g_block;
    (*b->body)();
    b->running->state = State::Done;
    swapcontext(&b->running->uc, &b->scheduler);
}

// give control back to the scheduler until released
void yield(State s) {
    Block* b = g_block;
    b->running->state = s;
    swapcontext(&b->running->uc, &b->scheduler);
}
}  // namespace

bool g_count_only = false;
void set_count_only(bool on) { g_count_only = on; }
bool count_only() { return g_count_only; }

ThreadCtx* cur() { return &g_block->running->ctx; }
void* dynamic_shared() { return g_block->dyn_shared.data(); }

void syncthreads() { yield(State::AtBlockBarrier); }

float warp_exchange_f(float v, int src) {
    Block* b = g_block;
    const int me = b->running->ctx.linear, base = me - me % 32;
    b->slot_f[me] = v;
    yield(State::AtWarpSync);  // every lane has published
    float out = (base + src < (int)b->fibers.size()) ? b->slot_f[base + src] : v;
    yield(State::AtWarpSync);  // every lane has read: the slots may be reused
    return out;
}

int warp_exchange_i(int v, int src) {
    Block* b = g_block;
    const int me = b->running->ctx.linear, base = me - me % 32;
    b->slot_i[me] = v;
    yield(State::AtWarpSync);
    int out = (base + src < (int)b->fibers.size()) ? b->slot_i[base + src] : v;
    yield(State::AtWarpSync);
    return out;
}

unsigned warp_ballot(bool pred) {
    Block* b = g_block;
    const int me = b->running->ctx.linear, base = me - me % 32;
    b->slot_i[me] = pred ? 1 : 0;
    yield(State::AtWarpSync);
    unsigned m = 0;
    for (int l = 0; l < 32 && base + l < (int)b->fibers.size(); l++)
        if (b->slot_i[base + l]) m |= 1u << l;
    yield(State::AtWarpSync);
    return m;
}

// Run one block to completion. A separate function (not inlined into launch's loops): swapcontext
// returns twice, like setjmp, and must not share a frame with loop counters it could clobber.
__attribute__((noinline)) static void run_block(Block& b, const char* name, dim3 grid, dim3 block, unsigned bx,
                                                unsigned by, unsigned bz) {
    const int nthreads = (int)b.fibers.size();
    // fresh fibers for this block
    for (int t = 0; t < nthreads; t++) {
        Fiber& f = b.fibers[t];
        f.ctx.linear = t;
        f.ctx.tid = {(unsigned)(t % block.x), (unsigned)((t / block.x) % block.y), (unsigned)(t / (block.x * block.y))};
        f.ctx.bid = {bx, by, bz};
        f.ctx.bdim = block;
        f.ctx.gdim = grid;
        f.state = State::Ready;
        getcontext(&f.uc);
        f.uc.uc_stack.ss_sp = f.stack.get();
        f.uc.uc_stack.ss_size = kStack;
        f.uc.uc_link = nullptr;
        makecontext(&f.uc, fiber_main, 0);
    }
    // run until every fiber is done; the order alternates between launches (see the header)
    for (;;) {
        bool progressed = false;
        for (int i = 0; i < nthreads; i++) {
            const int t = b.reverse ? nthreads - 1 - i : i;
            Fiber& f = b.fibers[t];
            if (f.state != State::Ready) continue;
            b.running = &f;
            swapcontext(&b.scheduler, &f.uc);
            progressed = true;
        }
        if (progressed) continue;
        // nobody can run: release a barrier whose participants have all arrived
        int done = 0, at_block = 0;
        for (Fiber& f : b.fibers) {
            done += f.state == State::Done;
            at_block += f.state == State::AtBlockBarrier;
        }
        if (done == nthreads) break;
        bool released = false;
        for (int w = 0; w * 32 < nthreads; w++) {  // warps whose live lanes all wait at a warp sync
            int lanes = std::min(32, nthreads - w * 32), waiting = 0, dead = 0;
            for (int l = 0; l < lanes; l++) {
                State s = b.fibers[w * 32 + l].state;
                waiting += s == State::AtWarpSync;
                dead += s == State::Done;
            }
            if (waiting > 0 && waiting + dead == lanes) {
                ENSURE(dead == 0, "%s: block (%u, %u, %u), warp %d: a warp intrinsic was reached by %d of %d "
                       "lanes (the others exited). HINT: every lane of the warp must take part",
                       name, bx, by, bz, w, waiting, lanes);
                for (int l = 0; l < lanes; l++) b.fibers[w * 32 + l].state = State::Ready;
                released = true;
            }
        }
        if (released) continue;
        if (at_block > 0 && at_block + done == nthreads) {
            ENSURE(done == 0, "%s: block (%u, %u, %u): __syncthreads reached by %d of %d threads (the others "
                   "exited). HINT: every thread of the block must reach every __syncthreads",
                   name, bx, by, bz, at_block, nthreads);
            for (Fiber& f : b.fibers) f.state = State::Ready;
            continue;
        }
        FATAL("%s: block (%u, %u, %u): deadlock: threads wait at __syncthreads and at warp intrinsics at the "
              "same time (%d at __syncthreads, %d done, %d threads). HINT: a barrier inside divergent code",
              name, bx, by, bz, at_block, done, nthreads);
    }
}

void launch(const char* name, dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
    const int nthreads = (int)(block.x * block.y * block.z);
    ENSURE(nthreads > 0 && nthreads <= 1024, "%s: a block of %d threads (CUDA allows 1..1024)", name, nthreads);
    ENSURE(grid.x > 0 && grid.y > 0 && grid.z > 0, "%s: an empty grid (%u, %u, %u)", name, grid.x, grid.y, grid.z);
    vsd::count_launch(name);
    if (g_count_only) return;  // the profiler's fast mode: counted, not run
    Block b;
    b.body = &body;
    b.kernel = name;
    b.reverse = (g_launches++ % 2) == 0;
    b.fibers.resize(nthreads);
    b.slot_f.assign(nthreads, 0.0f);
    b.slot_i.assign(nthreads, 0);
    b.dyn_shared.assign(shared_bytes + 16, 0);
    for (Fiber& f : b.fibers) f.stack.reset(new char[kStack]);
    struct Restore {  // g_block is restored even when a barrier error throws
        Block* saved;
        ~Restore() { g_block = saved; }
    } restore{g_block};
    g_block = &b;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) run_block(b, name, grid, block, bx, by, bz);
}

}  // namespace vsd_sim
