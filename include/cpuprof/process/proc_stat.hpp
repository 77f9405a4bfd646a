#pragma once

#include "cpuprof/process/thread_files.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cpuprof::process {

/// The fields of /proc/PID/stat and /proc/PID/task/TID/stat that cpuprof uses.
struct ProcStat {
    char state = '?';        ///< R running, S sleeping, D disk, Z zombie, T stopped, t traced ...
    std::uint64_t flags = 0; ///< PF_* flags (PF_KTHREAD = 0x00200000)
    std::uint64_t utime_ticks = 0;
    std::uint64_t stime_ticks = 0;

    [[nodiscard]] bool running() const { return state == 'R'; }
};

inline constexpr std::uint64_t kPfKthread = 0x00200000;

/// Parses a stat line; the command name may hold spaces and parentheses.
[[nodiscard]] std::optional<ProcStat> parse_stat(std::string_view text);

/// Reads /proc/PID/stat; nullopt when the process does not exist.
[[nodiscard]] std::optional<ProcStat> read_process_stat(Pid pid);

/// Keeps /proc/PID/task/TID/stat open per thread and re-reads it with pread: the on-CPU check on
/// the sampling path costs one system call.
class ThreadStatReader {
  public:
    explicit ThreadStatReader(Pid pid)
        : pid_(pid) {}

    [[nodiscard]] std::optional<ProcStat> read(Tid tid);
    /// Closes the file of a thread that has exited.
    void forget(Tid tid);

  private:
    Pid pid_;
    ThreadFiles files_;
};

/// Checks that `pid` names a live, user-space process cpuprof may read. Throws TargetError (no such
/// process, zombie), NotPythonError (kernel thread) or PermissionError, each with the fix.
void check_target(Pid pid);

} // namespace cpuprof::process
