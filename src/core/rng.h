// rng.h — a small, seedable random number generator (xoshiro256**, seeded by splitmix64).
//
// Everything random in the project (initialisation, dropout, augmentation, sampling) draws from an
// Rng passed in explicitly, so the same seed gives the same numbers on the CPU, always.
#pragma once
#include <cmath>
#include <cstdint>

namespace vsd {

struct Rng {
    uint64_t s[4];
    bool has_spare = false;  // Box–Muller makes normals in pairs; keep the second one
    double spare = 0.0;

    explicit Rng(uint64_t seed = 0) { reseed(seed); }

    void reseed(uint64_t seed) {
        // splitmix64 spreads one 64-bit seed over the 256-bit state
        for (int i = 0; i < 4; i++) {
            seed += 0x9E3779B97F4A7C15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            s[i] = z ^ (z >> 31);
        }
        has_spare = false;
    }

    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t next_u64() {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    // uniform float in [0, 1): the top 24 bits, so every value is exactly representable
    float uniform() { return (float)(next_u64() >> 40) * (1.0f / 16777216.0f); }
    // uniform double in [0, 1)
    double uniform_double() { return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // uniform integer in [0, n)
    uint64_t randint(uint64_t n) { return n ? next_u64() % n : 0; }
    // standard normal (Box–Muller, in double for accuracy)
    float normal() {
        if (has_spare) { has_spare = false; return (float)spare; }
        double u1 = uniform_double(), u2 = uniform_double();
        if (u1 < 1e-300) u1 = 1e-300;
        double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
        spare = r * std::sin(t);
        has_spare = true;
        return (float)(r * std::cos(t));
    }
};

}  // namespace vsd
