#pragma once

#include "cpuprof/process/block_cache.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/frame_walker.hpp"
#include "cpuprof/python/interpreter.hpp"
#include "cpuprof/python/thread_stack.hpp"
#include "cpuprof/python/thread_states.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

namespace cpuprof::python {

/// Reads the Python stacks of every thread of a target: the facade over the thread-state reader,
/// the frame walker and the code cache. Never throws on the sampling path: a bad read costs the
/// thread's sample and is reported in its status.
class StackReader {
  public:
    StackReader(const process::RemoteMemory& memory, Interpreter interpreter);

    /// Re-reads the list of Python threads (on a slower clock than samples). Returns false when
    /// the list could not be read (the interpreter is gone or shutting down).
    bool refresh_threads(const std::vector<Tid>& os_tids);
    [[nodiscard]] const std::vector<ThreadState>& threads() const noexcept { return threads_; }

    /// Reads one thread's stack into `out`. With `validate`, the thread's innermost frame is read
    /// again after the walk and the sample is marked Torn when it moved (non-blocking reads).
    void read_stack(const ThreadState& state, ThreadStack& out, bool validate);

    /// The thread state holding the GIL now (0 when none).
    [[nodiscard]] RemoteAddr gil_holder() { return states_.gil_holder(interp_); }

    [[nodiscard]] const Interpreter& interpreter() const noexcept { return *interpreter_; }
    [[nodiscard]] CodeCache& codes() noexcept { return codes_; }

  private:
    const process::RemoteMemory& memory_;
    process::BlockCache blocks_; ///< frames and code objects are read through it, per sample
    std::unique_ptr<Interpreter> interpreter_; // stable address: the members below refer to it
    RemoteAddr interp_ = 0;
    ThreadStateReader states_;
    CodeCache codes_;
    FrameWalker walker_;
    std::vector<ThreadState> threads_;
    /// Per thread state: the blocks its last sample read, prefetched in one read next time.
    std::unordered_map<RemoteAddr, std::vector<RemoteAddr>> working_sets_;
};

} // namespace cpuprof::python
