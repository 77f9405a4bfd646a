#include "cpuprof/process/block_cache.hpp"

#include <algorithm>
#include <cstring>

namespace cpuprof::process {

const BlockCache::Block* BlockCache::block_for(RemoteAddr base) const noexcept {
    // Reads come in runs on one block (a frame, then its code object's fields): the block of the
    // previous read first.
    if (last_ < used_ && blocks_[last_].base == base) {
        blocks_[last_].touched = true;
        return &blocks_[last_];
    }
    for (std::size_t i = 0; i < used_; ++i) {
        if (blocks_[i].base == base) {
            blocks_[i].touched = true;
            last_ = i;
            return &blocks_[i];
        }
    }
    std::size_t slot = used_ < kBlocks ? used_ : next_victim_++ % kBlocks;
    Block& block = blocks_[slot];
    ++misses_;
    if (inner_.read(base, block.data.data(), block_size_) != 0) {
        block.base = ~RemoteAddr{0}; // never a block base: the slot holds nothing valid now
        return nullptr;
    }
    block.base = base;
    block.touched = true;
    last_ = slot;
    if (used_ < kBlocks) {
        ++used_;
    }
    return &block;
}

std::size_t BlockCache::prefetch(std::span<const RemoteAddr> bases,
                                 std::span<TrailingWord> trailing) {
    // Left uninitialised: only the first wanted + words entries are filled and read (zeroing all
    // 96 cost ~300 instructions a tick).
    std::array<ReadRequest, kBlocks + kMaxTrailing> requests;
    std::size_t wanted = 0;
    for (RemoteAddr base : bases) {
        if (used_ + wanted == kBlocks) {
            break;
        }
        const bool held = std::any_of(blocks_.begin(), blocks_.begin() + used_ + wanted,
                                      [base](const Block& b) { return b.base == base; });
        if (held || base % block_size_ != 0) {
            continue;
        }
        Block& block = blocks_[used_ + wanted];
        block.base = base;
        block.touched = false;
        requests[wanted++] = {base, block.data.data(), block_size_};
    }
    const std::size_t words = std::min(trailing.size(), kMaxTrailing);
    for (std::size_t i = 0; i < trailing.size(); ++i) {
        trailing[i].read = false;
        if (i < words) {
            requests[wanted + i] = {trailing[i].address, &trailing[i].value, sizeof(std::uint64_t)};
        }
    }
    const std::size_t total = wanted + words;
    const std::size_t done =
        total == 0 ? 0 : inner_.read_leading(std::span(requests.data(), total));
    const std::size_t loaded = std::min(done, wanted);
    for (std::size_t i = wanted; i < done; ++i) {
        trailing[i - wanted].read = true;
    }
    for (std::size_t i = loaded; i < wanted; ++i) {
        blocks_[used_ + i].base = ~RemoteAddr{0};
    }
    used_ += loaded;
    return loaded;
}

void BlockCache::forget_touches() noexcept {
    for (std::size_t i = 0; i < used_; ++i) {
        blocks_[i].touched = false;
    }
}

void BlockCache::touched(std::vector<RemoteAddr>& out) const {
    for (std::size_t i = 0; i < used_; ++i) {
        if (blocks_[i].touched) {
            out.push_back(blocks_[i].base);
        }
    }
}

const std::byte* BlockCache::view(RemoteAddr address, std::size_t length) const noexcept {
    const RemoteAddr offset = address & static_cast<RemoteAddr>(block_size_ - 1);
    if (length == 0 || offset + length > block_size_) {
        return nullptr;
    }
    const RemoteAddr base = address - offset;
    // A stack's frames sit in one or two blocks: the previous block first, without a call.
    if (last_ < used_ && blocks_[last_].base == base) {
        blocks_[last_].touched = true;
        return blocks_[last_].data.data() + offset;
    }
    const Block* block = block_for(base);
    return block == nullptr ? nullptr : block->data.data() + offset;
}

int BlockCache::read(RemoteAddr address, void* destination, std::size_t length) const noexcept {
    // Most reads fall inside the block the previous one came from (the frames of a stack sit
    // next to each other): no search.
    const RemoteAddr offset = address & static_cast<RemoteAddr>(block_size_ - 1);
    if (last_ < used_ && blocks_[last_].base == address - offset &&
        offset + length <= block_size_) {
        blocks_[last_].touched = true;
        std::memcpy(destination, blocks_[last_].data.data() + offset, length);
        return 0;
    }
    // Up to one block's worth, possibly straddling two blocks (a thread state or frame object
    // across a boundary): served from both, so that it too is part of the working set.
    if (length > 0 && length <= block_size_) {
        const RemoteAddr mask = ~static_cast<RemoteAddr>(block_size_ - 1);
        auto* out = static_cast<std::byte*>(destination);
        RemoteAddr at = address;
        std::size_t left = length;
        while (left > 0) {
            const RemoteAddr base = at & mask;
            const Block* block = block_for(base);
            if (block == nullptr) {
                break;
            }
            const std::size_t take =
                std::min(left, static_cast<std::size_t>(base + block_size_ - at));
            std::memcpy(out, block->data.data() + (at - base), take);
            out += take;
            at += take;
            left -= take;
        }
        if (left == 0) {
            return 0;
        }
    }
    ++misses_;
    return inner_.read(address, destination, length);
}

} // namespace cpuprof::process
