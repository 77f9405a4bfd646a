#pragma once

#include "cpuprof/direct_cache.hpp"
#include "cpuprof/profile/profile.hpp"
#include "cpuprof/python/thread_stack.hpp"
#include "cpuprof/sampling/counters.hpp"
#include "cpuprof/sampling/cpu_placement.hpp"
#include "cpuprof/sampling/mixed_stack.hpp"
#include "cpuprof/sampling/on_cpu_memo.hpp"
#include "cpuprof/sampling/rss.hpp"
#include "cpuprof/sampling/switch_records.hpp"
#include "cpuprof/sampling/target.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cpuprof::sampling {

struct SamplerConfig {
    double rate_hz = 1000;
    std::optional<double> duration_s;
    bool idle = false;          ///< keep threads that are not on a CPU
    bool gil_only = false;      ///< keep only the thread holding the GIL
    bool per_thread = false;    ///< outputs split stacks per thread
    bool function_only = false; ///< no line numbers
    bool blocking = false;      ///< pause the target's threads during each read
    bool native = false;        ///< merge native frames (implies pausing the sampled threads)
    bool native_all = false;    ///< with native: keep the interpreter's own frames
    bool timeline = true;       ///< keep (tick, stack) pairs for time-ordered formats
    bool subprocesses = false;  ///< also sample the target's Python descendants
    std::int64_t child_scan_ns = 100'000'000;
    std::int64_t thread_refresh_ns = 100'000'000;
    bool start_paused = false; ///< take no sample until set_paused(false)
};

/// Live figures for a status line, readable from another thread.
struct SamplerProgress {
    std::atomic<std::uint64_t> ticks{0};
    std::atomic<std::uint64_t> thread_samples{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> lost{0};
    std::atomic<std::int64_t> elapsed_ns{0};
};

enum class StopReason { Duration, Stopped, TargetExited };

/// The sampling loop: at each tick of an absolute-deadline timer it reads every Python thread's
/// stack, filters it (idle, GIL), interns it into the profile's stack table and charges it the
/// thread's counter deltas and a share of the process's RSS change.
class Sampler {
  public:
    Sampler(Target& target, SamplerConfig config, profile::Profile& profile);
    ~Sampler();

    /// Samples until the duration has passed, `stop` is set, or the target exits.
    StopReason run(const std::atomic<bool>& stop);

    [[nodiscard]] const SamplerProgress& progress() const noexcept { return progress_; }
    /// Held while a tick updates the profile; readers of a live profile take it too.
    [[nodiscard]] std::mutex& profile_mutex() noexcept { return mutex_; }
    /// Keeps or drops idle threads from the next tick on (the live view's `i` key).
    void set_idle(bool idle) noexcept { idle_.store(idle, std::memory_order_relaxed); }
    /// Pauses or resumes sampling (record: SIGUSR1 / SIGUSR2), from any thread. A pause starts
    /// between ticks, never while a thread is held; while paused the sampling thread sleeps
    /// until resumed or stopped, and the paused time is left out of the expected ticks.
    void set_paused(bool paused);
    [[nodiscard]] bool paused() const noexcept { return paused_.load(); }

  private:
    struct PendingStack {
        profile::StackId stack;
        Tid tid;
        bool holds_gil;
    };
    struct Selected {
        const python::ThreadState* state;
        bool holds_gil;
        bool on_cpu; ///< known to be on a CPU (the GIL holder, or by its on-CPU check)
    };
    /// One sampled process: the target, or with --subprocesses each Python descendant too.
    struct Process {
        Target* target = nullptr;
        std::unique_ptr<Target> owned; ///< descendants attached by the sampler itself
        std::unique_ptr<RssReader> rss;
        std::optional<std::int64_t> last_rss;
        std::unique_ptr<MixedStackReader> mixed;
        std::unordered_map<RemoteAddr, profile::FrameId> native_frames;
        std::unordered_set<std::uint64_t> named; ///< pthread ids whose Python name was looked up
        std::vector<Tid> tids; ///< the Python threads' OS ids at the last refresh, sorted
        std::int64_t next_refresh_ns = 0;
        std::int64_t next_names_ns = 0;
        bool gone = false; ///< the interpreter could not be read at the last refresh
        std::optional<profile::FrameId> root; ///< "process PID: command" (--subprocesses)
    };

    // sampler.cpp: the loop, processes and threads
    Process& add_process(Target& target, std::unique_ptr<Target> owned);
    void scan_children(std::int64_t now);
    void sample_tick(Process& process, std::uint32_t tick_index);
    /// Flags in asleep_ (one per thread of the process's reader) the threads known to be asleep
    /// (their last switch record, else OnCpuMemo from this tick's schedstat lines) and returns
    /// how many; none with --idle.
    std::size_t mark_asleep(Process& process);
    void select_threads(Process& process, RemoteAddr gil);
    void read_selected(Process& process, std::uint32_t tick_index);
    enum class Placing { Holder, Selected };
    /// Marks the CPU of the GIL holder `gil` (Holder: right after the snapshot), or those of the
    /// selected threads on a CPU without the GIL (Selected: after selection), and moves the
    /// sampling thread off them when it shares one (CpuPlacement), before the stacks are walked.
    void keep_off_target_cpus(Process& process, Placing when, RemoteAddr gil);
    void refresh_threads(Process& process);
    /// Closes the files and drops the counters kept for threads gone since the last refresh:
    /// a service that starts a thread per request would otherwise run out of descriptors.
    void forget_exited(Process& process);
    // sampler_record.cpp: read stacks into the profile
    void record_stack(Process& process, const python::ThreadStack& stack, std::uint32_t tick_index);
    void record_mixed(Process& process, const python::ThreadStack& stack, std::uint32_t tick_index);
    void commit_stack(Process& process, Tid tid, bool holds_gil, std::uint32_t tick_index);
    profile::FrameId frame_id(const python::PyFrame& frame);
    profile::FrameId native_frame_id(Process& process, const MixedFrame& frame);
    void charge_rss(std::int64_t delta);
    /// Whether `tid` is on a CPU (or runnable) now: from its last switch record when it has one
    /// (SwitchRecords, no system call), else carried over from the previous look while its
    /// schedstat has not moved (OnCpuMemo), else its stat line (not asked without `ask_stat`);
    /// nullopt when unreadable or not known.
    std::optional<bool> on_cpu(Process& process, Tid tid, bool ask_stat = true);
    /// The thread's state from its switch records alone; nullopt when they do not tell.
    std::optional<bool> switched(Process& process, Tid tid);
    /// Once per thread-refresh period: closes the switch rings of the threads that switch most
    /// when all rings together wrote more records than there were ticks (SwitchRecords).
    void keep_rings_within_budget(std::int64_t now);
    /// Sleeps while paused (until resumed, stopped or `end`); returns the nanoseconds it slept.
    std::int64_t wait_while_paused(const std::atomic<bool>& stop, std::int64_t end);

    SamplerConfig config_;
    profile::Profile& profile_;
    SamplerProgress progress_;
    std::mutex mutex_;
    std::atomic<bool> idle_;
    std::atomic<bool> paused_{false};
    std::mutex pause_mutex_;
    std::condition_variable resumed_;

    std::unique_ptr<PerfCounterSource> instructions_;
    std::unique_ptr<CounterSource> cpu_clock_; ///< schedstat, else the perf task clock
    /// cpu_clock_ when it is schedstat: its lines also tell idle threads apart cheaply.
    SchedstatCpuSource* schedstat_ = nullptr;
    OnCpuMemo on_cpu_;                        ///< each thread's on-CPU state at its last look
    std::unique_ptr<SwitchRecords> switches_; ///< none with CPUPROF_SWITCH_RECORDS=0
    std::int64_t next_ring_budget_ns_ = 0;
    std::optional<DeltaAttributor> instruction_deltas_;
    std::optional<DeltaAttributor> cpu_deltas_;

    std::vector<std::unique_ptr<Process>> processes_;  ///< [0] is the target itself
    std::unordered_map<Pid, std::int64_t> not_python_; ///< descendants to look at again later
    std::int64_t next_child_scan_ns_ = 0;

    python::ThreadStack stack_;
    std::vector<profile::FrameId> frame_ids_;
    std::vector<PendingStack> tick_stacks_;
    std::vector<Selected> selected_;
    std::vector<std::uint8_t> asleep_; ///< per thread of the process being sampled (mark_asleep)
    std::optional<CpuPlacement> placement_; ///< made by the sampling thread, in run()
    bool moved_ = false;                    ///< placement_ moved the thread this tick
    std::size_t tick_failures_ = 0;
    bool warned_behind_ = false;
    bool warned_stop_ = false;
    bool warned_files_ = false;

    struct FrameKey {
        const python::CodeInfo* code;
        int line;
        bool operator==(const FrameKey&) const = default;
    };
    struct FrameKeyHash {
        std::size_t operator()(const FrameKey& k) const noexcept {
            return std::hash<const void*>{}(k.code) * 31 + static_cast<std::size_t>(k.line);
        }
    };
    std::unordered_map<FrameKey, profile::FrameId, FrameKeyHash> frame_cache_;
    DirectCache<FrameKey, profile::FrameId, 256, FrameKeyHash> recent_frames_; ///< before it
    std::vector<MixedFrame> mixed_frames_;
    profile::FrameId unmerged_frame_ = 0;
};

} // namespace cpuprof::sampling
