#pragma once

#include "cpuprof/profile/frame.hpp"
#include "cpuprof/python/thread_stack.hpp"
#include "cpuprof/sampling/target.hpp"

#include <string>
#include <vector>

namespace cpuprof::sampling {

/// One thread of a one-off dump.
struct ThreadSnapshot {
    Tid tid = 0;
    std::uint64_t thread_id = 0;
    std::string os_name;
    std::string python_name; ///< threading.Thread name; empty when the thread has none we can read
    bool on_cpu = false;
    bool holds_gil = false;
    python::ReadStatus status = python::ReadStatus::Ok;
    bool truncated = false;
    std::vector<profile::Frame> frames; ///< innermost first
};

/// Reads every Python thread's stack once, without stopping the target: a read that sees the
/// stack move is retried up to `attempts` times. The main thread comes first.
[[nodiscard]] std::vector<ThreadSnapshot> snapshot_threads(Target& target, int attempts = 20);

/// Like snapshot_threads, but each thread is held in a ptrace stop while its Python stack is read
/// and its native stack unwound; the two are merged (interpreter frames folded away unless
/// `keep_internal`). Threads are released before this returns.
[[nodiscard]] std::vector<ThreadSnapshot> snapshot_threads_native(Target& target,
                                                                  bool keep_internal);

/// Converts a Python frame to the reported form.
[[nodiscard]] profile::Frame to_frame(const python::PyFrame& frame, bool with_line = true);

} // namespace cpuprof::sampling
