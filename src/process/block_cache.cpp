#include "cpuprof/process/block_cache.hpp"

#include <algorithm>
#include <cstring>

namespace cpuprof::process {

const BlockCache::Block* BlockCache::block_for(RemoteAddr base) const noexcept {
    for (std::size_t i = 0; i < used_; ++i) {
        if (blocks_[i].base == base) {
            blocks_[i].touched = true;
            return &blocks_[i];
        }
    }
    std::size_t slot = used_ < kBlocks ? used_ : next_victim_++ % kBlocks;
    Block& block = blocks_[slot];
    if (inner_.read(base, block.data.data(), block_size_) != 0) {
        block.base = ~RemoteAddr{0}; // never a block base: the slot holds nothing valid now
        return nullptr;
    }
    block.base = base;
    block.touched = true;
    if (used_ < kBlocks) {
        ++used_;
    }
    return &block;
}

std::size_t BlockCache::prefetch(std::span<const RemoteAddr> bases) {
    std::array<ReadRequest, kBlocks> requests{};
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
    const std::size_t loaded =
        wanted == 0 ? 0 : inner_.read_leading(std::span(requests.data(), wanted));
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

int BlockCache::read(RemoteAddr address, void* destination, std::size_t length) const noexcept {
    const RemoteAddr base = address & ~static_cast<RemoteAddr>(block_size_ - 1);
    if (length == 0 || address - base + length > block_size_) {
        return inner_.read(address, destination, length);
    }
    const Block* block = block_for(base);
    if (block == nullptr) {
        return inner_.read(address, destination, length);
    }
    std::memcpy(destination, block->data.data() + (address - base), length);
    return 0;
}

} // namespace cpuprof::process
