#include "cpuprof/output/top_model.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>
#include <unordered_map>

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
    seen_samples_.clear();
    base_stats_ = profile.stats;
    base_clock_ = clock;
    update(profile, clock);
}

void TopModel::set_sort(TopSort sort) {
    view_.sort = sort;
    this->sort();
}

bool TopModel::set_native(bool on) {
    if (!native_recorded_) {
        return false;
    }
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
    }
    for (auto id = static_cast<profile::FrameId>(key_of_frame_.size()); id < frames.size(); ++id) {
        const profile::Frame& frame = frames[id];
        const bool skipped = frame.kind == profile::FrameKind::Thread ||
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

void TopModel::fold(const profile::Profile& profile) {
    index_frames(profile.frames);
    const profile::StackTable& stacks = profile.stacks;
    rows_.clear();
    recent_samples_ = 0;
    seen_samples_.resize(stacks.size(), 0);

    // Row of each key: a dense vector for the shared view, a map keyed by (thread, key) when
    // the view is per thread.
    std::vector<std::uint32_t> row_of_key(view_.per_thread ? 0 : keys_.size(), kNone);
    std::unordered_map<std::uint64_t, std::uint32_t> row_of_thread_key;
    std::vector<profile::StackId> counted_in;
    std::vector<std::uint32_t> row_keys;
    // Samples of each frame, to name a function by its hottest line.
    std::vector<std::uint64_t> frame_samples(view_.lines ? 0 : profile.frames.size(), 0);
    auto row_for = [&](Tid tid, std::uint32_t key) -> std::uint32_t {
        std::uint32_t* slot = nullptr;
        if (view_.per_thread) {
            const auto packed =
                (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tid)) << 32) | key;
            slot = &row_of_thread_key.try_emplace(packed, kNone).first->second;
        } else {
            slot = &row_of_key[key];
        }
        if (*slot == kNone) {
            *slot = static_cast<std::uint32_t>(rows_.size());
            TopRow row;
            row.thread = tid;
            if (view_.per_thread) {
                row.thread_label = thread_label(profile, tid);
            }
            rows_.push_back(std::move(row));
            counted_in.push_back(kNone);
            row_keys.push_back(key);
        }
        return *slot;
    };

    for (profile::StackId id = 0; id < stacks.size(); ++id) {
        const profile::StackMetrics& metrics = stacks.metrics(id);
        const std::uint64_t recent = since(metrics.samples, seen_samples_[id]);
        seen_samples_[id] = metrics.samples;
        recent_samples_ += recent;
        const Tid tid = view_.per_thread ? stacks.thread(id) : 0;
        std::uint32_t leaf = kNone;
        for (const profile::FrameId frame : stacks.frames(id)) {
            const std::uint32_t key = key_of_frame_[frame];
            if (key == kNone) {
                continue;
            }
            const std::uint32_t r = row_for(tid, key);
            if (!view_.lines) {
                frame_samples[frame] += metrics.samples;
            }
            // Recursion: a function appearing twice in one stack still ran for one sample.
            if (counted_in[r] != id) {
                counted_in[r] = id;
                rows_[r].total += metrics;
                rows_[r].total_recent += recent;
            }
            leaf = r;
        }
        if (leaf != kNone) {
            rows_[leaf].own += metrics;
            rows_[leaf].own_recent += recent;
        }
    }
    label_rows(profile.frames, row_keys, frame_samples);
}

void TopModel::label_rows(const profile::FrameTable& frames,
                          const std::vector<std::uint32_t>& row_keys,
                          const std::vector<std::uint64_t>& frame_samples) {
    if (view_.lines) {
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            rows_[r].label = key_labels_[row_keys[r]];
        }
        return;
    }
    std::vector<profile::FrameId> hottest(keys_.size(), kNone);
    for (profile::FrameId id = 0; id < frame_samples.size(); ++id) {
        const std::uint32_t key = key_of_frame_[id];
        if (frame_samples[id] == 0 || key == kNone) {
            continue;
        }
        if (hottest[key] == kNone || frame_samples[id] > frame_samples[hottest[key]]) {
            hottest[key] = id;
        }
    }
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        const std::uint32_t key = row_keys[r];
        if (hottest[key] == kNone || frames[hottest[key]].line <= 0) {
            rows_[r].label = key_labels_[key];
            continue;
        }
        profile::Frame shown = keys_[key];
        shown.line = frames[hottest[key]].line;
        rows_[r].label = label_of(shown);
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
    h.counter = profile.counter;
}

void TopModel::sort() {
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
    std::sort(rows_.begin(), rows_.end(), [&key](const TopRow& a, const TopRow& b) {
        const auto ka = key(a);
        const auto kb = key(b);
        if (ka != kb) {
            return ka > kb;
        }
        if (a.own.samples != b.own.samples) {
            return a.own.samples > b.own.samples;
        }
        if (a.total.samples != b.total.samples) {
            return a.total.samples > b.total.samples;
        }
        if (a.label != b.label) {
            return a.label < b.label;
        }
        return a.thread < b.thread;
    });
}

} // namespace cpuprof::output
