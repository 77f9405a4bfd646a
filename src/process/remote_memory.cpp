#include "cpuprof/process/remote_memory.hpp"

namespace cpuprof::process {

int RemoteMemory::read_batch(std::span<const ReadRequest> requests) const noexcept {
    for (const auto& request : requests) {
        if (int err = read(request.address, request.destination, request.length); err != 0) {
            return err;
        }
    }
    return 0;
}

std::size_t RemoteMemory::read_leading(std::span<const ReadRequest> requests) const noexcept {
    std::size_t done = 0;
    for (const auto& request : requests) {
        if (read(request.address, request.destination, request.length) != 0) {
            break;
        }
        ++done;
    }
    return done;
}

void RemoteMemory::read_or_throw(RemoteAddr address,
                                 void* destination,
                                 std::size_t length,
                                 const char* what) const {
    if (int err = read(address, destination, length); err != 0) {
        throw RemoteReadError(pid(), address, err, what);
    }
}

} // namespace cpuprof::process
