#pragma once

#include "cpuprof/process/remote_memory.hpp"

namespace cpuprof::process {

/// The memory of a live process, read with process_vm_readv; falls back to /proc/PID/mem when the
/// kernel lacks cross-memory attach (ENOSYS). Never writes.
class ProcessMemory final : public RemoteMemory {
  public:
    explicit ProcessMemory(Pid pid);
    ~ProcessMemory() override;

    [[nodiscard]] int
    read(RemoteAddr address, void* destination, std::size_t length) const noexcept override;
    [[nodiscard]] int read_batch(std::span<const ReadRequest> requests) const noexcept override;
    [[nodiscard]] std::size_t
    read_leading(std::span<const ReadRequest> requests) const noexcept override;
    [[nodiscard]] Pid pid() const noexcept override { return pid_; }

  private:
    int
    read_through_mem_file(RemoteAddr address, void* destination, std::size_t length) const noexcept;

    Pid pid_;
    mutable int mem_fd_ = -1;
    mutable bool use_mem_file_ = false;
};

} // namespace cpuprof::process
