#pragma once

#include "cpuprof/process/block_cache.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/frame_walker.hpp"
#include "cpuprof/python/interpreter.hpp"
#include "cpuprof/python/thread_stack.hpp"
#include "cpuprof/python/thread_states.hpp"

#include <memory>
#include <optional>
#include <span>
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

    /// Non-blocking sampling, at the start of a tick: reads, in one batched read, the blocks the
    /// GIL state and every thread's previous sample touched. gil_holder() and the first
    /// read_stack() of each thread this tick then read from it instead of one read per thread.
    /// The same read ends with each thread's innermost frame pointer read again, which validates
    /// a walk that found everything in the snapshot without another system call.
    /// `skip`, when given, has one flag per element of threads(): a thread flagged will not be
    /// sampled this tick unless it holds the GIL (it is known to be asleep, or only the holder
    /// is sampled), so its blocks and words are left out of the batch, except the last GIL
    /// holder's. A thread left out is still read right by read_stack(), with reads of its own.
    void take_snapshot(std::span<const std::uint8_t> skip = {});
    /// Ends the tick's snapshot: later reads go to the target again.
    void drop_snapshot() noexcept { snapshot_ = false; }

    /// Reads one thread's stack into `out`. With `validate`, the thread's innermost frame pointer
    /// is read again after everything the walk used was read (at the end of the snapshot's batch
    /// when the walk found everything there, else on its own after the walk) and the sample is
    /// marked Torn when it moved (non-blocking reads).
    /// With `from_snapshot`, from this tick's snapshot (when one was taken); otherwise the blocks
    /// of the thread's previous sample are read afresh, in one read (a held thread, a retry).
    void read_stack(const ThreadState& state,
                    ThreadStack& out,
                    bool validate,
                    bool from_snapshot = false);

    /// From now on every snapshot also reads, for each thread, the word at its pthread_t plus
    /// `offset` (after everything else in the batch); thread_word() returns it. The sampler
    /// asks for the kernel's record of each thread's CPU this way (process::rseq_cpu_offset).
    void watch_thread_word(std::int64_t offset) noexcept { thread_word_offset_ = offset; }
    /// The watched word of `state` (an element of threads()) in this tick's snapshot; nullopt
    /// outside a snapshot, when no word is watched, or when it could not be read.
    [[nodiscard]] std::optional<std::uint64_t> thread_word(const ThreadState& state) const;

    /// The thread state holding the GIL now (0 when none), from this tick's snapshot if any.
    [[nodiscard]] RemoteAddr gil_holder();

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
    /// What a thread's last sample read: its blocks, prefetched in one read next time, and the
    /// word holding its innermost frame pointer, read again at the end of that same batch.
    struct WorkingSet {
        std::vector<RemoteAddr> blocks;
        RemoteAddr slot = 0;
        std::size_t check = kNoCheck; ///< its index in checks_ for this tick's snapshot
    };
    static constexpr std::size_t kNoCheck = ~std::size_t{0};
    /// Whether `state`'s walk, read from this tick's snapshot without a miss, is vouched for by
    /// the snapshot's trailing re-read of its innermost frame pointer: kept (1), torn (0), or
    /// not known (-1: the live word must be read).
    int snapshot_verdict(const ThreadState& state, const WorkingSet& set) const;

    /// Per thread state (by address).
    std::unordered_map<RemoteAddr, WorkingSet> working_sets_;
    std::vector<RemoteAddr> snapshot_bases_;
    std::vector<process::BlockCache::TrailingWord> checks_;
    std::optional<std::int64_t> thread_word_offset_;
    std::vector<std::size_t> thread_words_; ///< per thread (as threads_), its index in checks_
    RemoteAddr last_holder_ = 0;            ///< what gil_holder() returned last
    bool snapshot_ = false;                 ///< blocks_ holds this tick's snapshot
    std::uint64_t snapshot_misses_ = 0;     ///< blocks_.misses() right after the snapshot
};

} // namespace cpuprof::python
