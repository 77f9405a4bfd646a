#include "cpuprof/direct_cache.hpp"

#include <catch2/catch.hpp>
#include <cstdint>

using cpuprof::DirectCache;

namespace {
struct Identity {
    std::size_t operator()(std::uint64_t k) const noexcept { return k; }
};
/// Sends every key to the same slot.
struct Constant {
    std::size_t operator()(std::uint64_t) const noexcept { return 42; }
};
} // namespace

TEST_CASE("DirectCache finds what was put and forgets it on eviction or clear", "[profile]") {
    DirectCache<std::uint64_t, int, 64, Identity> cache;
    CHECK(cache.find(0) == nullptr); // an empty slot holds no key, not even the zero key
    cache.put(0x7f00'0000'1000, 1);
    cache.put(0x7f00'0000'1040, 2);
    REQUIRE(cache.find(0x7f00'0000'1000) != nullptr);
    CHECK(*cache.find(0x7f00'0000'1000) == 1);
    CHECK(*cache.find(0x7f00'0000'1040) == 2);
    CHECK(cache.find(0x7f00'0000'1080) == nullptr);
    cache.put(0x7f00'0000'1000, 3); // a new value for the same key
    CHECK(*cache.find(0x7f00'0000'1000) == 3);

    // Aligned addresses (low bits all zero) spread over the slots instead of sharing one.
    DirectCache<std::uint64_t, int, 64, Identity> spread;
    for (std::uint64_t i = 0; i < 16; ++i) {
        spread.put(0x5555'0000'0000 + i * 0x40, static_cast<int>(i));
    }
    int kept = 0;
    for (std::uint64_t i = 0; i < 16; ++i) {
        const int* v = spread.find(0x5555'0000'0000 + i * 0x40);
        kept += v != nullptr && *v == static_cast<int>(i) ? 1 : 0;
    }
    CHECK(kept >= 12);

    // Two keys in one slot: the later evicts the earlier, which then misses (never a wrong hit).
    DirectCache<std::uint64_t, int, 8, Constant> shared;
    shared.put(1, 10);
    shared.put(2, 20);
    CHECK(shared.find(1) == nullptr);
    CHECK(*shared.find(2) == 20);
    shared.clear();
    CHECK(shared.find(2) == nullptr);
}
