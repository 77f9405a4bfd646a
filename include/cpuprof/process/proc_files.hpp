#pragma once

#include "cpuprof/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cpuprof::process {

/// Reads /proc/PID/<name> whole. Throws TargetError naming the pid when the process does not
/// exist and PermissionError (with the fix) when access is denied.
[[nodiscard]] std::string read_proc_file(Pid pid, const std::string& name);

/// Reads a file whole; nullopt when it cannot be opened or read.
[[nodiscard]] std::optional<std::string> read_text_file(const std::string& path);

/// The thread ids of a process (/proc/PID/task), sorted; empty if the process is gone.
[[nodiscard]] std::vector<Tid> list_threads(Pid pid);

/// The OS name of a thread (/proc/PID/task/TID/comm), without the newline; empty if gone.
[[nodiscard]] std::string thread_comm(Pid pid, Tid tid);

/// The target's executable (readlink /proc/PID/exe), as the target sees it.
[[nodiscard]] std::string executable_path(Pid pid);

/// The target's command line (/proc/PID/cmdline split at NULs).
[[nodiscard]] std::vector<std::string> command_line(Pid pid);

/// Every descendant of a process (children, grandchildren ...), from
/// /proc/PID/task/TID/children; empty if the process is gone.
[[nodiscard]] std::vector<Pid> descendants(Pid pid);

/// The message that explains a permission failure and how to fix it (root, CAP_SYS_PTRACE, Yama).
[[nodiscard]] std::string permission_hint(Pid pid);

} // namespace cpuprof::process
