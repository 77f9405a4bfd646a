#include "cpuprof/sampling/sampler.hpp"

#include "cpuprof/process/ptrace_session.hpp"
#include "cpuprof/python/thread_names.hpp"
#include "cpuprof/sampling/snapshot.hpp"
#include "cpuprof/sampling/ticker.hpp"

#include <chrono>
#include <limits>
#include <sys/resource.h>
#include <spdlog/spdlog.h>

namespace cpuprof::sampling {

Sampler::Sampler(Target& target, SamplerConfig config, profile::Profile& profile)
    : target_(target)
    , config_(config)
    , profile_(profile)
    , idle_(config.idle)
    , rss_(target.pid()) {
    using Event = PerfCounterSource::Event;
    if (auto problem = PerfCounterSource::probe(Event::Instructions, target.pid())) {
        profile_.counter = profile::CounterKind::TaskClock;
        profile_.counter_note = *problem;
        spdlog::info("instructions unavailable: {}; recording CPU time per stack instead", *problem);
    } else {
        profile_.counter = profile::CounterKind::HardwareInstructions;
        instructions_ = std::make_unique<PerfCounterSource>(Event::Instructions);
        instruction_deltas_.emplace(*instructions_);
    }
    if (!PerfCounterSource::probe(Event::TaskClock, target.pid())) {
        cpu_clock_ = std::make_unique<PerfCounterSource>(Event::TaskClock);
        cpu_deltas_.emplace(*cpu_clock_);
    }
    if (config_.native) {
        mixed_ = std::make_unique<MixedStackReader>(target.pid(), config_.native_all);
        unmerged_frame_ = profile_.frames.intern(
            {"<unmerged native stack>", "", 0, profile::FrameKind::Marker});
    }
    profile_.native = config_.native;
    profile_.rate_hz = config_.rate_hz;
    profile_.idle_included = config_.idle;
    profile_.gil_only = config_.gil_only;
    profile_.per_thread = config_.per_thread;
    profile_.function_only = config_.function_only;
    profile_.target.pid = target.pid();
    profile_.target.python_version = target.interpreter().version.str();
    profile_.target.executable = target.interpreter().executable;
}

Sampler::~Sampler() = default;

namespace {
// CPU time (user + system) of the calling thread.
std::uint64_t thread_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    auto ns = [](const timeval& tv) {
        return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000ULL +
               static_cast<std::uint64_t>(tv.tv_usec) * 1000ULL;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}
} // namespace

StopReason Sampler::run(const std::atomic<bool>& stop) {
    const std::uint64_t cpu_at_start = thread_cpu_ns();
    Ticker ticker(config_.rate_hz);
    const std::int64_t start = monotonic_ns();
    ticker.start_at(start);
    profile_.start_unix_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::int64_t end =
        config_.duration_s ? start + static_cast<std::int64_t>(*config_.duration_s * 1e9)
                           : std::numeric_limits<std::int64_t>::max();
    last_rss_ = rss_.read();
    refresh_threads();

    StopReason reason = StopReason::Stopped;
    Tick tick;
    while (ticker.wait(tick, &stop)) {
        const std::int64_t now = monotonic_ns();
        if (now >= end) {
            reason = StopReason::Duration;
            break;
        }
        auto& stats = profile_.stats;
        stats.ticks++;
        stats.lost_ticks += tick.lost;
        stats.late_ticks += tick.late ? 1 : 0;
        if (!warned_behind_ && stats.lost_ticks >= 20 && stats.lost_ticks * 100 > tick.index) {
            warned_behind_ = true;
            spdlog::warn("sampling is falling behind: {} of {} ticks lost so far (the machine is "
                         "busy or --rate {} is too high); the profile counts them, try a lower "
                         "--rate",
                         stats.lost_ticks, tick.index + 1, config_.rate_hz);
        }
        if (now >= next_refresh_ns_) {
            refresh_threads();
        }
        sample_tick(static_cast<std::uint32_t>(tick.index));
        if (interpreter_gone_ && !target_.alive()) {
            reason = StopReason::TargetExited;
            break;
        }
        progress_.ticks.store(stats.ticks, std::memory_order_relaxed);
        progress_.thread_samples.store(stats.thread_samples, std::memory_order_relaxed);
        progress_.errors.store(stats.failed + stats.torn, std::memory_order_relaxed);
        progress_.lost.store(stats.lost_ticks, std::memory_order_relaxed);
        progress_.elapsed_ns.store(now - start, std::memory_order_relaxed);
    }
    const std::int64_t stopped = std::min(monotonic_ns(), end);
    std::lock_guard lock(mutex_);
    profile_.duration_s = static_cast<double>(stopped - start) / 1e9;
    profile_.stats.expected_ticks =
        static_cast<std::uint64_t>(profile_.duration_s * config_.rate_hz);
    profile_.stats.sampler_cpu_ns = thread_cpu_ns() - cpu_at_start;
    return reason;
}

void Sampler::refresh_threads() {
    next_refresh_ns_ = monotonic_ns() + config_.thread_refresh_ns;
    const bool ok = target_.refresh_threads();
    interpreter_gone_ = !ok;
    // Python-level names (threading.Thread(name=...)) cost a few dict walks: read them only when
    // a thread appears that has not been named yet.
    bool unnamed = false;
    for (const auto& state : target_.reader().threads()) {
        unnamed = unnamed || (state.native_id != 0 && !named_.contains(state.thread_id));
    }
    python::ThreadNames names;
    if (unnamed && ok) {
        try {
            names = python::read_thread_names(target_.memory(), target_.interpreter(),
                                              python::main_interpreter(target_.memory(),
                                                                       target_.interpreter()));
        } catch (const Error&) {
            names.clear(); // the OS names stand
        }
    }
    std::lock_guard lock(mutex_);
    for (const auto& state : target_.reader().threads()) {
        if (state.native_id == 0) {
            continue;
        }
        auto& info = profile_.threads[state.native_id];
        if (info.tid == 0) {
            info.tid = state.native_id;
            info.name = target_.thread_name(state.native_id);
        }
        if (auto it = names.find(state.thread_id); it != names.end()) {
            info.name = it->second;
            named_.insert(state.thread_id);
        } else if (unnamed) {
            named_.insert(state.thread_id); // not a threading.Thread: keep the OS name
        }
    }
}

void Sampler::select_threads(RemoteAddr gil) {
    auto& stats = profile_.stats;
    // set_idle() may change it between ticks (the live view's `i` key).
    const bool idle = idle_.load(std::memory_order_relaxed);
    profile_.idle_included = idle;
    selected_.clear();
    for (const auto& state : target_.reader().threads()) {
        const Tid tid = state.native_id;
        const bool holds_gil = gil != 0 && gil == state.address;
        if (config_.gil_only && !holds_gil) {
            continue;
        }
        if (!idle && tid != 0) {
            auto stat = target_.thread_stats().read(tid);
            if (!stat) {
                ++tick_failures_;
                continue;
            }
            if (!stat->running()) {
                stats.idle_skipped++;
                continue;
            }
        }
        selected_.push_back({&state, holds_gil});
    }
}

void Sampler::read_selected(std::uint32_t tick_index) {
    auto& stats = profile_.stats;
    auto& reader = target_.reader();
    for (const auto& pick : selected_) {
        reader.read_stack(*pick.state, stack_, !(config_.blocking || config_.native));
        if (stack_.status == python::ReadStatus::Failed) {
            stats.failed++;
            ++tick_failures_;
            continue;
        }
        if (stack_.status == python::ReadStatus::Torn) {
            stats.torn++;
            continue;
        }
        if (stack_.frames.empty()) {
            continue; // a thread with no Python code running (starting, or in C only)
        }
        stack_.holds_gil = pick.holds_gil;
        if (mixed_ && stack_.tid != 0) {
            record_mixed(stack_, tick_index);
        } else {
            record_stack(stack_, tick_index);
        }
    }
}

void Sampler::sample_tick(std::uint32_t tick_index) {
    const auto rss = rss_.read();
    const RemoteAddr gil = target_.reader().gil_holder();
    tick_stacks_.clear();
    tick_failures_ = 0;

    std::lock_guard lock(mutex_);
    select_threads(gil);
    if ((config_.blocking || config_.native) && !selected_.empty()) {
        // Hold the sampled threads still while their stacks are read; released on scope exit,
        // and by the kernel should cpuprof die in between (the threads are seized).
        pause_tids_.clear();
        for (const auto& pick : selected_) {
            if (pick.state->native_id != 0) {
                pause_tids_.push_back(pick.state->native_id);
            }
        }
        process::PtraceSession pause(target_.pid(), pause_tids_);
        read_selected(tick_index);
    } else {
        read_selected(tick_index);
    }
    if (tick_failures_ > 0) {
        // A thread exited, or the whole interpreter is going away: re-read the thread list now.
        next_refresh_ns_ = 0;
    }
    if (rss && last_rss_ && !tick_stacks_.empty()) {
        charge_rss(*rss - *last_rss_);
        last_rss_ = rss;
    } else if (rss && !last_rss_) {
        last_rss_ = rss;
    }
}

void Sampler::record_stack(const python::ThreadStack& stack, std::uint32_t tick_index) {
    frame_ids_.clear();
    for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it) {
        frame_ids_.push_back(frame_id(*it));
    }
    commit_stack(stack.tid, stack.holds_gil, tick_index);
}

void Sampler::record_mixed(const python::ThreadStack& stack, std::uint32_t tick_index) {
    if (!mixed_->read(stack.tid, stack, mixed_frames_)) {
        profile_.stats.unmerged++;
    }
    frame_ids_.clear();
    for (auto it = mixed_frames_.rbegin(); it != mixed_frames_.rend(); ++it) {
        switch (it->kind) {
        case MixedFrame::Kind::Python:
            frame_ids_.push_back(frame_id(*it->python));
            break;
        case MixedFrame::Kind::Native:
            frame_ids_.push_back(native_frame_id(*it));
            break;
        case MixedFrame::Kind::Unmerged:
            frame_ids_.push_back(unmerged_frame_);
            break;
        }
    }
    commit_stack(stack.tid, stack.holds_gil, tick_index);
}

profile::FrameId Sampler::native_frame_id(const MixedFrame& frame) {
    auto it = native_frames_.find(frame.pc);
    if (it != native_frames_.end()) {
        return it->second;
    }
    const auto id = profile_.frames.intern(
        {frame.native->name, frame.native->module, 0, profile::FrameKind::Native});
    native_frames_.emplace(frame.pc, id);
    return id;
}

void Sampler::commit_stack(Tid tid, bool holds_gil, std::uint32_t tick_index) {
    const profile::StackId id = profile_.stacks.intern(tid, frame_ids_);
    profile::StackMetrics metrics;
    metrics.samples = 1;
    if (tid != 0) {
        if (instruction_deltas_) {
            metrics.instructions = instruction_deltas_->delta(tid);
        }
        if (cpu_deltas_) {
            metrics.cpu_ns = cpu_deltas_->delta(tid);
        }
    }
    profile_.stacks.add(id, metrics);
    if (profile_.stats.thread_samples == 0) {
        // tools/bench/bench.py times attach-to-first-sample from this line: CLOCK_MONOTONIC,
        // the clock of Python's time.monotonic_ns().
        spdlog::debug("first sample at monotonic {} ns", monotonic_ns());
    }
    profile_.stats.thread_samples++;
    profile_.stats.gil_samples += holds_gil ? 1 : 0;
    auto& info = profile_.threads[tid];
    if (info.tid == 0 && tid != 0) {
        info.tid = tid;
        info.name = target_.thread_name(tid);
    }
    info.samples++;
    if (config_.timeline) {
        profile_.timeline.push_back({tick_index, id});
    }
    tick_stacks_.push_back({id, tid, holds_gil});
}

profile::FrameId Sampler::frame_id(const python::PyFrame& frame) {
    const FrameKey key{frame.code, config_.function_only ? 0 : frame.line};
    auto it = frame_cache_.find(key);
    if (it != frame_cache_.end()) {
        return it->second;
    }
    const auto id = profile_.frames.intern(to_frame(frame, !config_.function_only));
    frame_cache_.emplace(key, id);
    return id;
}

void Sampler::charge_rss(std::int64_t delta) {
    if (delta == 0) {
        return;
    }
    // Python allocates while holding the GIL: charge the holder when it was sampled this tick,
    // otherwise share the change between the stacks sampled in this tick.
    for (const auto& pending : tick_stacks_) {
        if (pending.holds_gil) {
            profile_.stacks.add(pending.stack, {.rss_delta = delta});
            return;
        }
    }
    const auto n = static_cast<std::int64_t>(tick_stacks_.size());
    const std::int64_t share = delta / n;
    std::int64_t remainder = delta - share * n;
    for (const auto& pending : tick_stacks_) {
        profile_.stacks.add(pending.stack, {.rss_delta = share + remainder});
        remainder = 0;
    }
}

} // namespace cpuprof::sampling
