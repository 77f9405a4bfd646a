#pragma once

#include "cpuprof/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cpuprof::process {

/// A command cpuprof launched to profile (launch mode). The destructor ends it if it still runs,
/// so a failed recording never leaves an orphan behind.
class ChildProcess {
  public:
    /// Starts `argv` (searched in PATH). Throws TargetError when it cannot be run.
    [[nodiscard]] static ChildProcess spawn(const std::vector<std::string>& argv);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    /// The exit status when the child has exited (reaps it), nullopt while it runs.
    std::optional<int> poll();
    /// Waits up to `timeout_ms` for it to exit; returns its status when it did.
    std::optional<int> wait_for(int timeout_ms);
    /// SIGTERM, then SIGKILL if it has not exited after `grace_ms`; reaps it.
    void terminate(int grace_ms = 2000);

  private:
    explicit ChildProcess(Pid pid)
        : pid_(pid) {}
    Pid pid_ = 0;
    std::optional<int> status_;
};

} // namespace cpuprof::process
