#pragma once

#include "cpuprof/process/thread_files.hpp"
#include "cpuprof/types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

struct perf_event_mmap_page;

namespace cpuprof::sampling {

/// Whether a thread is on a CPU (or runnable), from the scheduler's record of its last switch,
/// without a system call. Each thread gets a perf software event that counts nothing
/// (PERF_COUNT_SW_DUMMY) with `context_switch` set: at every switch of the thread onto or off a
/// CPU the kernel appends an 8-byte PERF_RECORD_SWITCH to the event's ring buffer, mapped here
/// read-only (the kernel then overwrites the oldest records and never stops). The last record
/// tells the thread's state now: switched in — on a CPU; switched out while still runnable
/// (`PERF_RECORD_MISC_SWITCH_OUT_PREEMPT`) — runnable, which /proc calls running too; switched
/// out otherwise — asleep.
///
/// Each record costs the thread that switches: about 0.7 µs per switch on or off a CPU on
/// these VMs (two threads passing a byte back and forth on one CPU: 5.2 µs per round trip
/// without rings, 8.1 µs with), a cost that grows with how often the target switches, not with
/// the sampling rate. keep_within() bounds it: the caller allows all rings together as many
/// records as the sampler saves reads, and the rings of the threads that switch most are closed
/// beyond that (their state then comes from /proc), to be tried again later.
///
/// A thread with no record yet (it has not been switched since its ring was opened: asleep all
/// along, or running all along) is in the state the caller saw right after opening its ring
/// (set_unswitched), or not known. Nor is any thread where perf_event_open is not permitted
/// (perf_event_paranoid) or the ring cannot be mapped (perf_event_mlock_kb): the caller asks
/// /proc.
class SwitchRecords {
  public:
    SwitchRecords() = default;
    ~SwitchRecords();
    SwitchRecords(const SwitchRecords&) = delete;
    SwitchRecords& operator=(const SwitchRecords&) = delete;

    /// The state the last record of a ring says (`data` is the ring's data area, of
    /// `meta.data_size` bytes): true on a CPU or runnable, false asleep; nullopt with no
    /// record, a record that is not a switch, or a ring written over while it was read.
    [[nodiscard]] static std::optional<bool> last_switch(const perf_event_mmap_page& meta,
                                                         const std::byte* data);

    /// Opens the thread's ring; false when it cannot be (not tried again).
    bool open(Tid tid);
    [[nodiscard]] bool is_open(Tid tid) const { return rings_.contains(tid); }
    /// The thread's state as seen after its ring was opened, which holds until its first switch.
    void set_unswitched(Tid tid, bool on_cpu);
    /// The thread's state from its ring (see last_switch), or the one set_unswitched() gave
    /// while the ring has no record; nullopt when not open or not known.
    [[nodiscard]] std::optional<bool> on_cpu(Tid tid) const;
    void close(Tid tid);

    /// Which of the rings that wrote `records[i]` records since the last look to close, the
    /// busiest first, for those left to have written at most `max_records` together.
    [[nodiscard]] static std::vector<std::size_t>
    over_budget(std::span<const std::uint64_t> records, std::uint64_t max_records);
    /// Called once per period (the thread refresh): closes the rings over_budget() picks from
    /// what each wrote since the previous call. A thread whose ring is closed is not given one
    /// again for kRestPeriods periods, twice as long each time it is closed again. Returns how
    /// many rings it closed.
    std::size_t keep_within(std::uint64_t max_records);
    static constexpr std::uint32_t kRestPeriods = 100; ///< 10 s at the 100 ms thread refresh
    [[nodiscard]] std::size_t open_rings() const noexcept { return rings_.size(); }

  private:
    struct Ring {
        void* map = nullptr;
        std::size_t length = 0;
        std::optional<bool> unswitched; ///< the state before the first record
        std::uint64_t seen_head = 0;    ///< data_head at the previous keep_within()
    };
    struct Rest {
        std::uint32_t periods_left = 0;
        std::uint32_t length = 0; ///< of this rest: doubled at each closing
    };
    void unmap(Tid tid);

    process::ThreadFiles files_;
    std::unordered_map<Tid, Ring> rings_;
    std::unordered_set<Tid> failed_;
    std::unordered_map<Tid, Rest> resting_;
};

} // namespace cpuprof::sampling
