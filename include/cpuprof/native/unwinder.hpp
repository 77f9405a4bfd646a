#pragma once

#include "cpuprof/types.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

struct unw_addr_space; // libunwind's opaque address space

namespace cpuprof::native {

/// How an unwind ended.
enum class UnwindEnd : std::uint8_t {
    Complete, ///< libunwind reached the outermost frame
    DepthCap, ///< the stack is deeper than the cap: the outer frames are missing
    Loop,     ///< the unwinder produced the same frame twice or a zero pc: stopped there
    Failed,   ///< libunwind could not step further (no unwind info, unreadable stack)
};

struct UnwindResult {
    std::size_t depth = 0; ///< frames written
    UnwindEnd end = UnwindEnd::Complete;
};

/// Unwinds the native stacks of ptrace-stopped threads of one process with libunwind-ptrace.
/// One libunwind address space per target, its unwind-info cache shared by every thread and
/// sample, so the steady state reads registers and stack words and little else.
class Unwinder {
  public:
    static constexpr std::size_t kMaxDepth = 512;

    /// Throws cpuprof::Error when libunwind cannot create the address space.
    explicit Unwinder(Pid pid);
    ~Unwinder();
    Unwinder(const Unwinder&) = delete;
    Unwinder& operator=(const Unwinder&) = delete;
    Unwinder(Unwinder&&) noexcept;
    Unwinder& operator=(Unwinder&&) noexcept;

    /// Fills `pcs` (cleared first) with the thread's program counters, innermost first. The first
    /// is where the thread stopped; the others are return addresses minus one, so each falls in
    /// its call instruction and symbolizes to the caller even after a call to a noreturn function.
    /// The thread must be in a ptrace stop held by the calling OS thread. Never throws; reuses the
    /// capacity of `pcs`.
    UnwindResult unwind(Tid tid, std::vector<RemoteAddr>& pcs, std::size_t max_depth = kMaxDepth);

    /// Forgets cached unwind info, e.g. after the target unloaded a library.
    void flush_cache() noexcept;

    [[nodiscard]] Pid pid() const noexcept { return pid_; }

  private:
    struct AddressSpaceDeleter {
        void operator()(unw_addr_space* address_space) const noexcept;
    };

    struct UptDeleter {
        void operator()(void* upt) const noexcept;
    };
    /// libunwind-ptrace's per-thread handle, kept across samples: it caches the unwind table of
    /// the module it last looked in, so a new handle per sample would re-read /proc/PID/maps and
    /// re-map that module's ELF file every time.
    void* handle_for(Tid tid);

    Pid pid_;
    std::unique_ptr<unw_addr_space, AddressSpaceDeleter> address_space_;
    std::unordered_map<Tid, std::unique_ptr<void, UptDeleter>> handles_;
};

} // namespace cpuprof::native
