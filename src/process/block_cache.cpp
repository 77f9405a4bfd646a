#include "cpuprof/process/block_cache.hpp"

#include <cstring>

namespace cpuprof::process {

const BlockCache::Block* BlockCache::block_for(RemoteAddr base) const noexcept {
    for (std::size_t i = 0; i < used_; ++i) {
        if (blocks_[i].base == base) {
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
    if (used_ < kBlocks) {
        ++used_;
    }
    return &block;
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
