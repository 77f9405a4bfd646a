#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/interpreter.hpp"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cpuprof::python {

/// One PyThreadState as read from the target.
struct ThreadState {
    RemoteAddr address = 0;
    std::uint64_t thread_id = 0; ///< pthread_t
    Tid native_id = 0;           ///< OS tid (0 when unknown)
    RemoteAddr top_frame = 0;    ///< innermost frame (PyFrameObject* or _PyInterpreterFrame*)
    RemoteAddr cframe = 0;       ///< 3.11/3.12: the _PyCFrame the top frame was read from
};

/// Reads thread states: the list of an interpreter, each one's innermost frame, the GIL holder,
/// and (before 3.11, where PyThreadState has no native_thread_id) the OS tid of a pthread.
class ThreadStateReader {
  public:
    ThreadStateReader(const process::RemoteMemory& memory, const Interpreter& interpreter);

    /// Walks interp->threads.head -> next (capped, cycle-checked) into `out`.
    /// Returns false when a read failed part-way.
    bool list(RemoteAddr interp, std::vector<ThreadState>& out);

    /// Re-reads one thread state (its innermost frame may have changed) through `via` (the
    /// sample's block cache). Returns false when the read fails or the state no longer belongs
    /// to `interp` (the thread exited).
    bool refresh(RemoteAddr interp, ThreadState& state, const process::RemoteMemory& via);

    /// Reads the innermost frame pointer again (one read) and tells whether it still is
    /// `state.top_frame`. On 3.11/3.12 the _PyCFrame it came from is re-read: a nested eval loop
    /// entered meanwhile leaves it unchanged, and the frames read are then still a true stack.
    [[nodiscard]] bool top_frame_unchanged(const ThreadState& state);
    /// Where top_frame_unchanged() reads: the word holding `state`'s innermost frame pointer (0
    /// on 3.11/3.12 when the state has no _PyCFrame: nothing to read, no frame).
    [[nodiscard]] RemoteAddr top_frame_slot(const ThreadState& state) const noexcept;

    /// The thread state holding the GIL now, 0 when none (or when it cannot be read), read
    /// through `via` (a snapshot of this tick) or, by default, directly.
    [[nodiscard]] RemoteAddr gil_holder(RemoteAddr interp,
                                        const process::RemoteMemory* via = nullptr);
    /// Where gil_holder() reads (for a snapshot to include it); 0 when it cannot be known yet.
    [[nodiscard]] RemoteAddr gil_address(RemoteAddr interp);

    /// Maps pthread ids to OS tids for versions without native_thread_id, by finding where glibc
    /// keeps the tid inside struct pthread (checked against the process's real tids).
    void resolve_native_ids(std::vector<ThreadState>& states, const std::vector<Tid>& tids);

  private:
    bool decode(RemoteAddr address,
                RemoteAddr interp,
                ThreadState& state,
                const process::RemoteMemory& via);

    const process::RemoteMemory& memory_;
    const Interpreter& interpreter_;
    std::vector<std::byte> buffer_;
    RemoteAddr gil_state_ = 0;
    int pthread_tid_offset_ = -1;
    std::unordered_map<std::uint64_t, Tid> pthread_tids_;
};

} // namespace cpuprof::python
