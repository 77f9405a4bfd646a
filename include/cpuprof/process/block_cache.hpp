#pragma once

#include "cpuprof/process/remote_memory.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace cpuprof::process {

/// A read-through cache of aligned blocks of another RemoteMemory, valid until clear(). The
/// frames of one stack sit close together (3.11+ keeps them in one data-stack chunk), so reading
/// whole blocks turns one system call per frame into one per block, and gives one consistent
/// snapshot of each block. A block that cannot be read whole (it ends in an unmapped page) is
/// not cached: such reads go straight through.
class BlockCache final : public RemoteMemory {
  public:
    static constexpr std::size_t kMaxBlockSize = 4096;
    static constexpr std::size_t kBlocks = 32;
    static constexpr std::size_t kMaxTrailing = 64;

    /// A word read by prefetch() after all of its blocks, in the same batch: the last thing the
    /// batch copies. When it still holds what a block of that batch says it holds, nothing the
    /// word guards (a thread's innermost frame pointer) moved while the blocks were copied.
    struct TrailingWord {
        RemoteAddr address = 0;
        std::uint64_t value = 0;
        bool read = false;
    };

    /// `block_size` is a power of two up to kMaxBlockSize. 4 KiB measured best for every frame
    /// model: 3.11+ frames share a data-stack chunk, and <=3.10 frame objects of one size share
    /// a pymalloc pool.
    explicit BlockCache(const RemoteMemory& inner, std::size_t block_size = kMaxBlockSize)
        : inner_(inner)
        , block_size_(block_size) {}

    /// Forgets every block: call before reading a new sample.
    void clear() noexcept { used_ = 0; }

    /// Loads every block of `bases` (block-aligned addresses) not held yet, as many as there are
    /// free slots, with one batched read: a stack read again touches the blocks it touched last
    /// time, so their reads are paid in one system call instead of one per block. The first
    /// block that cannot be read ends the prefetch; the blocks after it are read on demand.
    /// Returns how many blocks were loaded. The `trailing` words (up to kMaxTrailing) are read
    /// after the blocks in the same system call; each is marked read only when every block
    /// before it was read too.
    std::size_t prefetch(std::span<const RemoteAddr> bases, std::span<TrailingWord> trailing = {});

    /// Appends the bases of the blocks that served a read since clear() or forget_touches()
    /// (blocks prefetched but never read are left out): the set to prefetch when the same stack
    /// is read again.
    void touched(std::vector<RemoteAddr>& out) const;
    /// Starts a new touched() set, keeping the blocks.
    void forget_touches() noexcept;
    /// How many reads went to the inner memory outside prefetch() (a block loaded on demand or
    /// a read that bypassed the blocks), since construction. Unchanged across a sample's reads
    /// means every byte of it came from the blocks prefetched before them.
    [[nodiscard]] std::uint64_t misses() const noexcept { return misses_; }
    /// Whether any block is held.
    [[nodiscard]] bool empty() const noexcept { return used_ == 0; }

    [[nodiscard]] int
    read(RemoteAddr address, void* destination, std::size_t length) const noexcept override;
    /// The bytes inside one held block (loaded on demand like read()), or nullptr when the range
    /// straddles two blocks or its block cannot be read: read() copies those.
    [[nodiscard]] const std::byte* view(RemoteAddr address,
                                        std::size_t length) const noexcept override;
    [[nodiscard]] Pid pid() const noexcept override { return inner_.pid(); }

  private:
    struct Block {
        RemoteAddr base = 0;
        bool touched = false;
        std::array<std::byte, kMaxBlockSize> data;
    };
    const Block* block_for(RemoteAddr base) const noexcept;

    const RemoteMemory& inner_;
    std::size_t block_size_;
    mutable std::array<Block, kBlocks> blocks_{};
    mutable std::size_t used_ = 0;
    mutable std::size_t next_victim_ = 0;
    mutable std::uint64_t misses_ = 0;
    mutable std::size_t last_ = 0; ///< the block the previous read was served from
};

} // namespace cpuprof::process
