#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace cpuprof {

/// A small direct-mapped cache in front of a slower map: each key has one slot (picked by its
/// hash, mixed), and the last key stored in a slot evicts the one before. A lookup is a hash, a
/// multiply and one compare, against the tens of instructions of a node-based hash map; a
/// sampler looking up the same few dozen frames thousands of times a second hits it nearly
/// always. A miss is only slower, never wrong: the map behind it stays the truth.
template <typename Key, typename Value, std::size_t Slots, typename Hash> class DirectCache {
    static_assert(std::has_single_bit(Slots), "Slots must be a power of two");

  public:
    /// The value stored for `key`, or nullptr.
    [[nodiscard]] const Value* find(const Key& key) const noexcept {
        const Slot& slot = slots_[index(key)];
        return slot.used && slot.key == key ? &slot.value : nullptr;
    }
    void put(const Key& key, const Value& value) noexcept {
        slots_[index(key)] = Slot{key, value, true};
    }
    void clear() noexcept {
        for (Slot& slot : slots_) {
            slot.used = false;
        }
    }

  private:
    struct Slot {
        Key key{};
        Value value{};
        bool used = false;
    };
    static std::size_t index(const Key& key) noexcept {
        // Fibonacci hashing: pointers and small integers keep their entropy in the high bits of
        // the product, where the index is taken from.
        if constexpr (Slots == 1) {
            return 0;
        } else {
            constexpr int kShift = 64 - std::countr_zero(Slots);
            const auto mixed = static_cast<std::uint64_t>(Hash{}(key)) * 0x9e3779b97f4a7c15ULL;
            return static_cast<std::size_t>(mixed >> kShift);
        }
    }
    std::array<Slot, Slots> slots_{};
};

} // namespace cpuprof
