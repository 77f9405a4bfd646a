#include "cpuprof/output/top_model.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

namespace cpuprof::output {

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Stats only grow between resets, but a reset taken between two reads of unlocked counters must
// not show up as an enormous unsigned number.
std::uint64_t since(std::uint64_t now, std::uint64_t base) {
    return now > base ? now - base : 0;
}

double share(std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::string label_of(const profile::Frame& frame) {
    if (frame.kind != profile::FrameKind::Python) {
        return frame.label();
    }
    profile::Frame shown = frame;
    shown.file = short_path(frame.file);
    return shown.label();
}

std::string thread_label(const profile::Profile& profile, Tid tid) {
    auto it = profile.threads.find(tid);
    if (it == profile.threads.end() || it->second.name.empty()) {
        return fmt::format("{}", tid);
    }
    return fmt::format("{} {}", tid, it->second.name);
}

profile::StackMetrics minus(const profile::StackMetrics& a, const profile::StackMetrics& b) {
    return {.samples = since(a.samples, b.samples),
            .instructions = since(a.instructions, b.instructions),
            .rss_delta = a.rss_delta - b.rss_delta,
            .cpu_ns = since(a.cpu_ns, b.cpu_ns)};
}

bool is_zero(const profile::StackMetrics& m) {
    return m.samples == 0 && m.instructions == 0 && m.rss_delta == 0 && m.cpu_ns == 0;
}

std::uint64_t counter_of(const profile::StackMetrics& m, profile::CounterKind kind) {
    return kind == profile::CounterKind::HardwareInstructions ? m.instructions : m.cpu_ns;
}

} // namespace

std::string short_path(const std::string& path) {
    std::string base = profile::basename_of(path);
    if (base != "__init__.py" && base != "__main__.py") {
        return base;
    }
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return base;
    }
    return profile::basename_of(path.substr(0, slash)) + "/" + base;
}

void TopModel::update(const profile::Profile& profile, const TopClock& clock) {
    fold(profile);
    read_header(profile, clock);
    sort();
}

void TopModel::reset(profile::Profile& profile, const TopClock& clock) {
    profile.stacks.clear();
    // The sampler re-adds the live threads at its next thread refresh, so the count shows the
    // threads seen since the reset rather than every thread that ever ran.
    profile.threads.clear();
    seen_.clear();
    rebuild_ = true;
    base_stats_ = profile.stats;
    base_clock_ = clock;
    update(profile, clock);
}

void TopModel::set_sort(TopSort sort) {
    view_.sort = sort;
    this->sort();
}

void TopModel::set_per_thread(bool on) {
    rebuild_ = rebuild_ || view_.per_thread != on;
    view_.per_thread = on;
}

void TopModel::set_lines(bool on) {
    rebuild_ = rebuild_ || view_.lines != on;
    view_.lines = on;
}

bool TopModel::set_native(bool on) {
    if (!native_recorded_) {
        return false;
    }
    rebuild_ = rebuild_ || view_.native != on;
    view_.native = on;
    return true;
}

void TopModel::index_frames(const profile::FrameTable& frames) {
    const bool native = native_recorded_ && view_.native;
    if (keys_lines_ != view_.lines || keys_native_ != native) {
        key_of_frame_.clear();
        keys_ = profile::FrameTable{};
        key_labels_.clear();
        keys_lines_ = view_.lines;
        keys_native_ = native;
        rebuild_ = true;
    }
    for (auto id = static_cast<profile::FrameId>(key_of_frame_.size()); id < frames.size(); ++id) {
        const profile::Frame& frame = frames[id];
        const bool skipped = frame.kind == profile::FrameKind::Thread ||
                             frame.kind == profile::FrameKind::Process ||
                             (frame.kind == profile::FrameKind::Native && !native);
        if (skipped) {
            key_of_frame_.push_back(kNone);
            continue;
        }
        profile::Frame key = frame;
        if (!view_.lines) {
            key.line = 0;
        }
        const profile::FrameId index = keys_.intern(key);
        if (index == key_labels_.size()) {
            key_labels_.push_back(label_of(key));
        }
        key_of_frame_.push_back(index);
    }
}

std::uint32_t TopModel::row_for(const profile::Profile& profile, Tid tid, std::uint32_t key) {
    std::uint32_t* slot = nullptr;
    if (view_.per_thread) {
        const auto packed =
            (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tid)) << 32) | key;
        slot = &row_of_thread_key_.try_emplace(packed, kNone).first->second;
    } else {
        slot = &row_of_key_[key];
    }
    if (*slot == kNone) {
        *slot = static_cast<std::uint32_t>(rows_.size());
        TopRow row;
        row.thread = tid;
        row.label = key_labels_[key];
        if (view_.per_thread) {
            row.thread_label = thread_label(profile, tid);
        }
        rows_.push_back(std::move(row));
        row_states_.push_back({key, 0, kNone});
    }
    return *slot;
}

void TopModel::walk(const profile::Profile& profile,
                    profile::StackId id,
                    const profile::StackMetrics& added,
                    std::uint64_t recent) {
    const Tid tid = view_.per_thread ? profile.stacks.thread(id) : 0;
    ++stamp_;
    std::uint32_t leaf = kNone;
    for (const profile::FrameId frame : profile.stacks.frames(id)) {
        const std::uint32_t key = key_of_frame_[frame];
        if (key == kNone) {
            continue;
        }
        const std::uint32_t r = row_for(profile, tid, key);
        if (!view_.lines) {
            frame_samples_[frame] += added.samples;
            // Counts only grow until a reset, so the running maximum is the hottest line.
            if (hottest_[key] == kNone || frame_samples_[frame] > frame_samples_[hottest_[key]]) {
                hottest_[key] = frame;
            }
        }
        // Recursion: a function appearing twice in one stack still ran for one sample.
        if (row_states_[r].stamp != stamp_) {
            row_states_[r].stamp = stamp_;
            rows_[r].total += added;
            rows_[r].total_recent += recent;
        }
        leaf = r;
    }
    if (leaf != kNone) {
        rows_[leaf].own += added;
        rows_[leaf].own_recent += recent;
    }
}

void TopModel::fold(const profile::Profile& profile) {
    index_frames(profile.frames);
    const profile::StackTable& stacks = profile.stacks;
    // Stacks only grow until reset(); fewer stacks or fewer samples mean the table was cleared
    // elsewhere, and nothing seen before is left.
    bool cleared = stacks.size() < seen_.size();
    for (profile::StackId id = 0; !cleared && id < seen_.size(); ++id) {
        cleared = stacks.metrics(id).samples < seen_[id].samples;
    }
    if (cleared) {
        seen_.clear();
        rebuild_ = true;
    }
    if (rebuild_) {
        rows_.clear();
        row_states_.clear();
        row_of_key_.clear();
        row_of_thread_key_.clear();
        frame_samples_.clear();
        hottest_.clear();
    }
    seen_.resize(stacks.size());
    frame_samples_.resize(view_.lines ? 0 : profile.frames.size(), 0);
    hottest_.resize(view_.lines ? 0 : keys_.size(), kNone);
    row_of_key_.resize(view_.per_thread ? 0 : keys_.size(), kNone);
    for (TopRow& row : rows_) {
        row.own_recent = 0;
        row.total_recent = 0;
    }
    recent_samples_ = 0;
    for (profile::StackId id = 0; id < stacks.size(); ++id) {
        const profile::StackMetrics& now = stacks.metrics(id);
        const profile::StackMetrics added = minus(now, seen_[id]);
        seen_[id] = now;
        recent_samples_ += added.samples;
        if (rebuild_) {
            walk(profile, id, now, added.samples);
        } else if (!is_zero(added)) {
            walk(profile, id, added, added.samples);
        }
    }
    rebuild_ = false;
    label_rows(profile.frames);
}

void TopModel::label_rows(const profile::FrameTable& frames) {
    if (view_.lines) {
        return; // a line's label never changes
    }
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        RowState& state = row_states_[r];
        const profile::FrameId hottest = hottest_[state.key];
        if (hottest == state.label_frame || hottest == kNone || frames[hottest].line <= 0) {
            continue;
        }
        profile::Frame shown = keys_[state.key];
        shown.line = frames[hottest].line;
        rows_[r].label = label_of(shown);
        state.label_frame = hottest;
    }
}

void TopModel::read_header(const profile::Profile& profile, const TopClock& clock) {
    const profile::SamplingStats& s = profile.stats;
    const profile::SamplingStats& b = base_stats_;
    TopHeader& h = header_;
    h.pid = profile.target.pid;
    h.command = profile.target.command_line.empty()
                    ? profile.target.executable
                    : fmt::format("{}", fmt::join(profile.target.command_line, " "));
    h.python_version = profile.target.python_version;
    h.rate_hz = profile.rate_hz;
    h.elapsed_s = clock.elapsed_ns > base_clock_.elapsed_ns
                      ? static_cast<double>(clock.elapsed_ns - base_clock_.elapsed_ns) / 1e9
                      : 0.0;
    const std::uint64_t ticks = since(clock.ticks, base_clock_.ticks);
    h.achieved_hz = h.elapsed_s > 0 ? static_cast<double>(ticks) / h.elapsed_s : 0.0;
    h.threads = profile.threads.size();
    h.samples = since(s.thread_samples, b.thread_samples);
    h.gil_share = share(since(s.gil_samples, b.gil_samples), h.samples);
    const std::uint64_t idle = since(s.idle_skipped, b.idle_skipped);
    h.idle_share = share(idle, idle + h.samples);
    h.idle_included = profile.idle_included;
    h.errors = since(s.failed + s.torn, b.failed + b.torn);
    h.lost_ticks = since(clock.lost_ticks, base_clock_.lost_ticks);
    h.paused = clock.paused;
    h.counter = profile.counter;
}

void TopModel::sort() {
    sorted_.clear();
    sorted_.reserve(rows_.size());
    for (const TopRow& row : rows_) {
        sorted_.push_back(&row);
    }
    const profile::CounterKind counter = header_.counter;
    auto key = [this, counter](const TopRow& r) -> std::uint64_t {
        switch (view_.sort) {
        case TopSort::OwnShare:
            return r.own_recent;
        case TopSort::TotalShare:
            return r.total_recent;
        case TopSort::OwnTime:
            return r.own.samples;
        case TopSort::TotalTime:
            return r.total.samples;
        case TopSort::OwnCounter:
            return counter_of(r.own, counter);
        case TopSort::TotalCounter:
            return counter_of(r.total, counter);
        }
        return 0;
    };
    // Ties (common right after a reset) fall back to the cumulative figures, then to the label,
    // so rows do not swap places between refreshes.
    std::sort(sorted_.begin(), sorted_.end(), [&key](const TopRow* a, const TopRow* b) {
        const auto ka = key(*a);
        const auto kb = key(*b);
        if (ka != kb) {
            return ka > kb;
        }
        if (a->own.samples != b->own.samples) {
            return a->own.samples > b->own.samples;
        }
        if (a->total.samples != b->total.samples) {
            return a->total.samples > b->total.samples;
        }
        if (a->label != b->label) {
            return a->label < b->label;
        }
        return a->thread < b->thread;
    });
}

} // namespace cpuprof::output
