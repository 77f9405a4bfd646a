#pragma once

#include "cpuprof/process/proc_stat.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/python/stack_reader.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cpuprof::sampling {

/// A Python process cpuprof is reading: its memory, interpreter, stack reader and the per-thread
/// /proc files. Attaching reads only; nothing in the target is stopped or written.
class Target {
  public:
    /// Attaches to `pid`. When `wait` is non-zero, keeps retrying while the process is starting
    /// (not Python yet because a launcher has not exec'd it, or the interpreter is not
    /// initialised) until `wait` has passed. Throws TargetError and its subclasses.
    [[nodiscard]] static std::unique_ptr<Target>
    attach(Pid pid, std::chrono::milliseconds wait = std::chrono::milliseconds(0));

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    [[nodiscard]] const python::Interpreter& interpreter() const { return reader_->interpreter(); }
    [[nodiscard]] python::StackReader& reader() noexcept { return *reader_; }
    [[nodiscard]] const process::RemoteMemory& memory() const noexcept { return memory_; }
    [[nodiscard]] process::ThreadStatReader& thread_stats() noexcept { return stats_; }
    /// Whether each snapshot of reader() carries the CPU each thread runs on (thread_cpu()).
    [[nodiscard]] bool knows_cpus() const noexcept { return knows_cpus_; }
    /// The CPU `state` (one of reader().threads()) was running on when this tick's snapshot was
    /// read (its rseq cpu_id); nullopt outside a snapshot or when not known.
    [[nodiscard]] std::optional<unsigned> thread_cpu(const python::ThreadState& state) const;
    /// Lets go of what is kept for a thread that has exited (its stat file, its name).
    void forget_thread(Tid tid);

    /// Re-reads the OS thread list and the Python thread states. Returns false when the
    /// interpreter can no longer be read (exiting).
    bool refresh_threads();
    [[nodiscard]] const std::vector<Tid>& os_threads() const noexcept { return os_tids_; }

    /// The OS name of a thread (comm), read once and cached.
    [[nodiscard]] const std::string& thread_name(Tid tid);

    /// True while the process exists and is not a zombie.
    [[nodiscard]] bool alive() const;

  private:
    Target(Pid pid, std::unique_ptr<python::StackReader> reader);

    Pid pid_;
    process::ProcessMemory memory_;
    std::unique_ptr<python::StackReader> reader_;
    process::ThreadStatReader stats_;
    std::vector<Tid> os_tids_;
    std::unordered_map<Tid, std::string> names_;
    bool knows_cpus_ = false;
};

} // namespace cpuprof::sampling
