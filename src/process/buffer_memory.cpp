#include "cpuprof/process/buffer_memory.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cpuprof::process {

std::byte* BufferMemory::map(RemoteAddr base, std::size_t size) {
    auto& region = regions_[base];
    region.assign(size, std::byte{0});
    return region.data();
}

void BufferMemory::write(RemoteAddr address, const void* data, std::size_t length) {
    auto it = regions_.upper_bound(address);
    if (it == regions_.begin()) {
        throw std::out_of_range("BufferMemory::write outside every region");
    }
    --it;
    const auto offset = address - it->first;
    if (offset + length > it->second.size()) {
        throw std::out_of_range("BufferMemory::write past the end of a region");
    }
    std::memcpy(it->second.data() + offset, data, length);
}

int BufferMemory::read(RemoteAddr address, void* destination, std::size_t length) const noexcept {
    auto it = regions_.upper_bound(address);
    if (it == regions_.begin()) {
        return EFAULT;
    }
    --it;
    const auto offset = address - it->first;
    if (offset > it->second.size() || length > it->second.size() - offset) {
        return EFAULT;
    }
    std::memcpy(destination, it->second.data() + offset, length);
    return 0;
}

} // namespace cpuprof::process
