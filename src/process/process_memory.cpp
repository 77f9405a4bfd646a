#include "cpuprof/process/process_memory.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/uio.h>
#include <unistd.h>

namespace cpuprof::process {

namespace {
// process_vm_readv takes at most IOV_MAX iovecs per call.
constexpr std::size_t kMaxIov = 64;
} // namespace

ProcessMemory::ProcessMemory(Pid pid)
    : pid_(pid) {}

ProcessMemory::~ProcessMemory() {
    if (mem_fd_ >= 0) {
        ::close(mem_fd_);
    }
}

int ProcessMemory::read(RemoteAddr address, void* destination, std::size_t length) const noexcept {
    if (length == 0) {
        return 0;
    }
    if (use_mem_file_) {
        return read_through_mem_file(address, destination, length);
    }
    iovec local{destination, length};
    iovec remote{reinterpret_cast<void*>(address), length};
    ssize_t got = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (got == static_cast<ssize_t>(length)) {
        return 0;
    }
    if (got >= 0) {
        return EFAULT; // partial read: the range crosses into unmapped memory
    }
    if (errno == ENOSYS) {
        use_mem_file_ = true;
        return read_through_mem_file(address, destination, length);
    }
    return errno;
}

int ProcessMemory::read_batch(std::span<const ReadRequest> requests) const noexcept {
    if (use_mem_file_) {
        return RemoteMemory::read_batch(requests);
    }
    std::array<iovec, kMaxIov> local; // only the first n entries are filled and passed
    std::array<iovec, kMaxIov> remote;
    while (!requests.empty()) {
        const std::size_t n = std::min(requests.size(), kMaxIov);
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            local[i] = {requests[i].destination, requests[i].length};
            remote[i] = {reinterpret_cast<void*>(requests[i].address), requests[i].length};
            total += requests[i].length;
        }
        ssize_t got = ::process_vm_readv(pid_, local.data(), n, remote.data(), n, 0);
        if (got < 0) {
            if (errno == ENOSYS) {
                use_mem_file_ = true;
                return RemoteMemory::read_batch(requests);
            }
            return errno;
        }
        if (static_cast<std::size_t>(got) != total) {
            return EFAULT;
        }
        requests = requests.subspan(n);
    }
    return 0;
}

std::size_t ProcessMemory::read_leading(std::span<const ReadRequest> requests) const noexcept {
    if (use_mem_file_) {
        return RemoteMemory::read_leading(requests);
    }
    std::array<iovec, kMaxIov> local; // only the first n entries are filled and passed
    std::array<iovec, kMaxIov> remote;
    std::size_t done = 0;
    while (done < requests.size()) {
        const std::size_t n = std::min(requests.size() - done, kMaxIov);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& r = requests[done + i];
            local[i] = {r.destination, r.length};
            remote[i] = {reinterpret_cast<void*>(r.address), r.length};
        }
        const ssize_t got = ::process_vm_readv(pid_, local.data(), n, remote.data(), n, 0);
        if (got < 0) {
            if (errno == ENOSYS) {
                use_mem_file_ = true;
                return done + RemoteMemory::read_leading(requests.subspan(done));
            }
            return done; // the first request is unreadable
        }
        // The kernel stops at the first range it cannot read: count the complete ones before it.
        std::size_t left = static_cast<std::size_t>(got);
        std::size_t i = 0;
        while (i < n && left >= requests[done + i].length) {
            left -= requests[done + i].length;
            ++i;
        }
        done += i;
        if (i < n) {
            return done;
        }
    }
    return done;
}

int ProcessMemory::read_through_mem_file(RemoteAddr address,
                                         void* destination,
                                         std::size_t length) const noexcept {
    if (mem_fd_ < 0) {
        auto path = fmt::format("/proc/{}/mem", pid_);
        mem_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (mem_fd_ < 0) {
            return errno;
        }
    }
    auto* out = static_cast<char*>(destination);
    std::size_t done = 0;
    while (done < length) {
        ssize_t got =
            ::pread(mem_fd_, out + done, length - done, static_cast<off_t>(address + done));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EIO ? EFAULT : errno;
        }
        if (got == 0) {
            return EFAULT;
        }
        done += static_cast<std::size_t>(got);
    }
    return 0;
}

} // namespace cpuprof::process
