#pragma once

#include "cpuprof/profile/profile.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace cpuprof::output {

/// The columns `top` can sort by, in the order of the keys 1-6.
enum class TopSort : std::uint8_t {
    OwnShare,     ///< %Own of the last interval
    TotalShare,   ///< %Total of the last interval
    OwnTime,      ///< own samples since start or reset
    TotalTime,    ///< total samples since start or reset
    OwnCounter,   ///< own instructions (or CPU time without the hardware counter)
    TotalCounter, ///< total instructions (or CPU time)
};
inline constexpr int kTopSortCount = 6;

/// What the user toggled: how the stacks are folded into rows.
struct TopView {
    TopSort sort = TopSort::OwnShare;
    bool per_thread = false; ///< one row per (thread, function) instead of per function
    /// One row per line rather than per function (whose label then names its hottest line).
    bool lines = false;
    bool native = true; ///< show native frames when they were recorded
};

/// One row: a function (or a line of one), in one thread when the view is per thread.
struct TopRow {
    Tid thread = 0;    ///< 0 unless the view is per thread
    std::string label; ///< `function (file:line)`
    std::string thread_label;
    std::uint64_t own_recent = 0;   ///< leaf samples in the last interval
    std::uint64_t total_recent = 0; ///< samples of stacks it is in, in the last interval
    profile::StackMetrics own;      ///< since start or reset: samples, instructions, cpu_ns
    profile::StackMetrics total;    ///< counted once per stack even when recursive
};

/// The figures of the screen's header, all since start or the last reset.
struct TopHeader {
    Pid pid = 0;
    std::string command;
    std::string python_version;
    double rate_hz = 0;     ///< requested
    double achieved_hz = 0; ///< ticks serviced per second
    double elapsed_s = 0;
    std::size_t threads = 0;
    std::uint64_t samples = 0;  ///< thread samples recorded
    double gil_share = 0;       ///< of the recorded samples, the share holding the GIL
    double idle_share = 0;      ///< of the threads looked at, the share found idle
    bool idle_included = false; ///< then idle threads are in the table, not counted apart
    std::uint64_t errors = 0;   ///< failed and torn reads
    std::uint64_t lost_ticks = 0;
    bool paused = false; ///< sampling is paused (the `p` key, or SIGUSR1)
    profile::CounterKind counter = profile::CounterKind::TaskClock;
};

/// The sampler's figures that are not guarded by the profile mutex (atomics on its side).
struct TopClock {
    std::uint64_t ticks = 0;
    std::uint64_t lost_ticks = 0;
    std::int64_t elapsed_ns = 0;
    bool paused = false;
};

/// The live view's state. It folds the growing profile into rows at each refresh and remembers
/// what it saw the time before, so percentages describe the last interval (what is hot now) while
/// times and counters add up since start or the last reset. Only the stacks sampled since the
/// previous refresh are walked, so the sampler's mutex is held briefly even on a large profile.
class TopModel {
  public:
    explicit TopModel(bool native_recorded)
        : native_recorded_(native_recorded) {}

    /// Re-reads the profile and sorts the rows. The caller holds the sampler's profile mutex.
    void update(const profile::Profile& profile, const TopClock& clock);
    /// Forgets every stack and restarts the header's figures. The caller holds the mutex.
    void reset(profile::Profile& profile, const TopClock& clock);

    /// Rows sorted by the view's column, valid until the next update(). A change of the view
    /// shows at the next update(); set_sort() re-sorts at once.
    [[nodiscard]] const std::vector<const TopRow*>& rows() const noexcept { return sorted_; }
    [[nodiscard]] const TopHeader& header() const noexcept { return header_; }
    [[nodiscard]] std::uint64_t recent_samples() const noexcept { return recent_samples_; }
    [[nodiscard]] const TopView& view() const noexcept { return view_; }
    [[nodiscard]] bool native_recorded() const noexcept { return native_recorded_; }

    void set_sort(TopSort sort);
    void set_per_thread(bool on);
    void set_lines(bool on);
    /// Returns false (and changes nothing) when native frames were not recorded.
    bool set_native(bool on);

  private:
    /// A row's bookkeeping, beside it in `rows_`.
    struct RowState {
        std::uint32_t key;
        std::uint64_t stamp;          ///< the stack walk that last counted the row's total
        profile::FrameId label_frame; ///< the frame its label names the line of
    };
    void index_frames(const profile::FrameTable& frames);
    void fold(const profile::Profile& profile);
    void walk(const profile::Profile& profile,
              profile::StackId id,
              const profile::StackMetrics& added,
              std::uint64_t recent);
    std::uint32_t row_for(const profile::Profile& profile, Tid tid, std::uint32_t key);
    void label_rows(const profile::FrameTable& frames);
    void read_header(const profile::Profile& profile, const TopClock& clock);
    void sort();

    bool native_recorded_;
    TopView view_;
    TopHeader header_;
    std::vector<TopRow> rows_; ///< in order of appearance; `sorted_` points into it
    std::vector<RowState> row_states_;
    std::vector<const TopRow*> sorted_;
    std::vector<std::uint32_t> row_of_key_;                              ///< shared view
    std::unordered_map<std::uint64_t, std::uint32_t> row_of_thread_key_; ///< per-thread view
    bool rebuild_ = true;
    std::uint64_t stamp_ = 0;
    std::uint64_t recent_samples_ = 0;
    /// Each stack's metrics at the previous update, by stack id (ids hold until a reset).
    std::vector<profile::StackMetrics> seen_;
    /// Function view: samples of each frame and the hottest frame of each key, for the label.
    std::vector<std::uint64_t> frame_samples_;
    std::vector<profile::FrameId> hottest_;
    profile::SamplingStats base_stats_;
    TopClock base_clock_;

    /// Frame id -> row key (a distinct frame, or function when lines are off), kept across
    /// updates because the frame table only grows; rebuilt when the view changes what a key is.
    std::vector<std::uint32_t> key_of_frame_;
    profile::FrameTable keys_;
    std::vector<std::string> key_labels_;
    bool keys_lines_ = false;
    bool keys_native_ = true;
};

/// The file part of a `function (file:line)` label: the basename, with its directory for package
/// files such as `__init__.py` whose basename alone says nothing.
[[nodiscard]] std::string short_path(const std::string& path);

} // namespace cpuprof::output
