#include "cpuprof/sampling/sampler.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/process/ptrace_session.hpp"
#include "cpuprof/process/thread_files.hpp"
#include "cpuprof/python/thread_names.hpp"
#include "cpuprof/sampling/priority.hpp"
#include "cpuprof/sampling/schedstat.hpp"
#include "cpuprof/sampling/ticker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <spdlog/spdlog.h>
#include <string_view>
#include <sys/resource.h>

namespace cpuprof::sampling {

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

// A descendant that is not (yet) Python is looked at again after this long: it may exec one.
constexpr std::int64_t kNotPythonRetryNs = 1'000'000'000;
constexpr std::int64_t kNamesRetryNs = 1'000'000'000;
constexpr int kTornRetries = 3;
constexpr std::int64_t kBusyWindowNs = 1'000'000'000;
constexpr double kMaxRealtimeBusy = 0.5;

} // namespace

Sampler::Sampler(Target& target, SamplerConfig config, profile::Profile& profile)
    : config_(config)
    , profile_(profile)
    , idle_(config.idle)
    , paused_(config.start_paused) {
    using Event = PerfCounterSource::Event;
    if (auto problem = PerfCounterSource::probe(Event::Instructions, target.pid())) {
        profile_.counter = profile::CounterKind::TaskClock;
        profile_.counter_note = *problem;
        spdlog::info("instructions unavailable: {}; recording CPU time per stack instead",
                     *problem);
    } else {
        profile_.counter = profile::CounterKind::HardwareInstructions;
        instructions_ = std::make_unique<PerfCounterSource>(Event::Instructions);
        instruction_deltas_.emplace(*instructions_);
    }
    if (SchedstatCpuSource::available(target.pid())) {
        auto schedstat = std::make_unique<SchedstatCpuSource>();
        schedstat_ = schedstat.get(); // one file per thread serves both
        cpu_clock_ = std::move(schedstat);
        profile_.cpu_time_source = "schedstat";
    } else if (!PerfCounterSource::probe(Event::TaskClock, target.pid())) {
        cpu_clock_ = std::make_unique<PerfCounterSource>(Event::TaskClock);
        profile_.cpu_time_source = "task-clock";
    } else {
        profile_.cpu_time_source = "unavailable";
    }
    if (cpu_clock_) {
        cpu_deltas_.emplace(*cpu_clock_);
    }
    if (const char* env = std::getenv("CPUPROF_SWITCH_RECORDS");
        env && std::string_view(env) == "0") {
        spdlog::info("switch records off (CPUPROF_SWITCH_RECORDS=0): on-CPU state from /proc");
    } else {
        switches_ = std::make_unique<SwitchRecords>();
    }
    if (config_.native) {
        unmerged_frame_ =
            profile_.frames.intern({"<unmerged native stack>", "", 0, profile::FrameKind::Marker});
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
    add_process(target, nullptr);
}

Sampler::~Sampler() = default;

Sampler::Process& Sampler::add_process(Target& target, std::unique_ptr<Target> owned) {
    auto process = std::make_unique<Process>();
    process->target = &target;
    process->owned = std::move(owned);
    process->rss = std::make_unique<RssReader>(target.pid());
    process->last_rss = process->rss->read();
    if (config_.native) {
        process->mixed = std::make_unique<MixedStackReader>(target.pid(), config_.native_all);
    }
    if (config_.subprocesses) {
        std::string command;
        for (const auto& word : process::command_line(target.pid())) {
            command += (command.empty() ? "" : " ") + word;
        }
        std::lock_guard lock(mutex_);
        process->root =
            profile_.frames.intern({fmt::format("process {}: {}", target.pid(), command), "", 0,
                                    profile::FrameKind::Process});
    }
    processes_.push_back(std::move(process));
    return *processes_.back();
}

void Sampler::scan_children(std::int64_t now) {
    next_child_scan_ns_ = now + config_.child_scan_ns;
    for (Pid pid : process::descendants(processes_.front()->target->pid())) {
        const bool known = std::any_of(processes_.begin(), processes_.end(),
                                       [pid](const auto& p) { return p->target->pid() == pid; });
        auto rejected = not_python_.find(pid);
        if (known || (rejected != not_python_.end() && rejected->second > now)) {
            continue;
        }
        try {
            auto target = Target::attach(pid);
            spdlog::info("sampling child process {} (Python {})", pid,
                         target->interpreter().version.str());
            Target& ref = *target;
            refresh_threads(add_process(ref, std::move(target)));
            not_python_.erase(pid);
        } catch (const Error& e) {
            spdlog::debug("child process {} not sampled: {}", pid, e.what());
            not_python_[pid] = now + kNotPythonRetryNs;
        }
    }
    std::erase_if(not_python_,
                  [](const auto& entry) { return !process::read_process_stat(entry.first); });
}

StopReason Sampler::run(const std::atomic<bool>& stop) {
    const std::uint64_t cpu_at_start = thread_cpu_ns();
    placement_.emplace();
    const PriorityOutcome priority = raise_sampling_priority();
    bool realtime = priority.priority == SamplerPriority::RealTime;
    {
        std::lock_guard lock(mutex_);
        profile_.sampler_priority = priority_name(priority.priority);
    }
    if (priority.priority == SamplerPriority::Normal) {
        spdlog::info("sampling at normal priority ({}): on a busy CPU ticks may come late, and "
                     "threads that run in short bursts are then undersampled; Linux 6.12+, or "
                     "root or CAP_SYS_NICE, lets cpuprof's ticks run at once",
                     priority.note);
    } else if (realtime) {
        spdlog::debug("sampling at real-time priority ({})", priority.note);
    } else {
        spdlog::debug("sampling with a {} µs scheduler slice", kSamplerSliceNs / 1000);
    }
    std::int64_t busy_mark_ns = monotonic_ns();
    std::uint64_t busy_mark_cpu = thread_cpu_ns();
    Ticker ticker(config_.rate_hz);
    const std::int64_t start = monotonic_ns();
    ticker.start_at(start);
    profile_.start_unix_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    const std::int64_t end = config_.duration_s
                                 ? start + static_cast<std::int64_t>(*config_.duration_s * 1e9)
                                 : std::numeric_limits<std::int64_t>::max();
    refresh_threads(*processes_.front());

    StopReason reason = StopReason::Stopped;
    std::int64_t paused_ns = 0;
    Tick tick;
    for (;;) {
        if (paused_.load()) {
            paused_ns += wait_while_paused(stop, end);
            ticker.resume_at(monotonic_ns());
        }
        if (!ticker.wait(tick, &stop)) {
            break;
        }
        const std::int64_t now = monotonic_ns();
        if (now >= end) {
            reason = StopReason::Duration;
            break;
        }
        auto& stats = profile_.stats;
        {
            std::lock_guard lock(mutex_);
            stats.ticks++;
            stats.lost_ticks += tick.lost;
            stats.late_ticks += tick.late ? 1 : 0;
        }
        if (!warned_behind_ && stats.lost_ticks >= 20 && stats.lost_ticks * 100 > tick.index) {
            warned_behind_ = true;
            spdlog::warn("sampling is falling behind: {} of {} ticks lost so far (the machine is "
                         "busy or --rate {} is too high); the profile counts them, try a lower "
                         "--rate",
                         stats.lost_ticks, tick.index + 1, config_.rate_hz);
        }
        // A real-time sampler busy most of the time (thousands of threads to look at, or a
        // --rate the machine cannot keep) would take a CPU from the target's threads on it:
        // above half a CPU over a second, it goes back to normal priority. Ticks lost to a
        // busy host alone do not count: it is the sampler's own CPU that is measured.
        if (realtime && now - busy_mark_ns >= kBusyWindowNs) {
            const std::uint64_t cpu = thread_cpu_ns();
            const double busy =
                static_cast<double>(cpu - busy_mark_cpu) / static_cast<double>(now - busy_mark_ns);
            if (busy > kMaxRealtimeBusy) {
                lower_sampling_priority();
                realtime = false;
                std::lock_guard lock(mutex_);
                profile_.sampler_priority = "real-time, then normal";
                spdlog::info("the sampler used {:.0f} % of a CPU over the last second: back to "
                             "normal priority",
                             busy * 100);
            }
            busy_mark_ns = now;
            busy_mark_cpu = cpu;
        }
        if (config_.subprocesses && now >= next_child_scan_ns_) {
            scan_children(now);
        }
        if (switches_ && now >= next_ring_budget_ns_) {
            keep_rings_within_budget(now);
        }
        placement_->begin_tick();
        moved_ = false;
        for (auto& process : processes_) {
            if (now >= process->next_refresh_ns) {
                refresh_threads(*process);
            }
            sample_tick(*process, static_cast<std::uint32_t>(tick.index));
        }
        if (moved_) {
            ticker.rearm_here();
        }
        // Descendants come and go; the recording ends with the target itself.
        std::erase_if(processes_, [&](const auto& p) {
            return p != processes_.front() && p->gone && !p->target->alive();
        });
        const Process& root = *processes_.front();
        if (root.gone && !root.target->alive()) {
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
    paused_ns = std::min(paused_ns, stopped - start);
    profile_.stats.paused_ns = static_cast<std::uint64_t>(paused_ns);
    profile_.stats.expected_ticks = static_cast<std::uint64_t>(
        (profile_.duration_s - static_cast<double>(paused_ns) / 1e9) * config_.rate_hz);
    profile_.stats.sampler_cpu_ns = thread_cpu_ns() - cpu_at_start;
    profile_.stats.colocated_ticks = placement_->colocated();
    profile_.stats.sampler_moves = placement_->moves();
    return reason;
}

void Sampler::forget_exited(Process& process) {
    std::vector<Tid> current;
    for (const auto& state : process.target->reader().threads()) {
        if (state.native_id != 0) {
            current.push_back(state.native_id);
        }
    }
    std::sort(current.begin(), current.end());
    for (Tid tid : process.tids) {
        if (std::binary_search(current.begin(), current.end(), tid)) {
            continue;
        }
        if (cpu_deltas_) {
            cpu_deltas_->forget(tid);
        }
        if (instruction_deltas_) {
            instruction_deltas_->forget(tid);
        }
        if (schedstat_) {
            schedstat_->close(tid);
        }
        if (switches_) {
            switches_->close(tid);
        }
        on_cpu_.forget(tid);
        process.target->forget_thread(tid);
    }
    process.tids = std::move(current);
}

void Sampler::keep_rings_within_budget(std::int64_t now) {
    // Two switch records a tick (one switch on and off a CPU), all rings together: at most
    // ~1.4 µs of the target's CPU a tick, 0.14 % of a CPU at 1 kHz, where each ring saves the
    // sampler a schedstat read (1.5–3 µs) a tick: 40 idle threads cost it 63 µs a tick
    // without rings, 39 µs with.
    constexpr double kRecordsPerTick = 2;
    const std::int64_t period = config_.thread_refresh_ns;
    next_ring_budget_ns_ = now + period;
    const auto budget = static_cast<std::uint64_t>(kRecordsPerTick * config_.rate_hz *
                                                   static_cast<double>(period) / 1e9);
    if (const std::size_t closed = switches_->keep_within(std::max<std::uint64_t>(budget, 1));
        closed > 0) {
        spdlog::debug("switch records: {} ring(s) closed over budget ({} records per {} ms), "
                      "{} open",
                      closed, budget, period / 1'000'000, switches_->open_rings());
        std::lock_guard lock(mutex_);
        profile_.stats.switch_rings_closed += closed;
    }
}

std::optional<bool> Sampler::switched(Process& process, Tid tid) {
    if (!switches_) {
        return std::nullopt;
    }
    if (!switches_->is_open(tid)) {
        // Rings pay for threads that sleep (each saves a schedstat read a tick): one is opened
        // for a thread once /proc has found it asleep. A thread that never leaves its CPU (a
        // single-threaded program's) never gets one: its ring would tell the sampler nothing
        // the GIL does not, and cost it ~2.5 µs a tick (1-thread A/B, 8 × 4 s: 29.4 against
        // 32.0 µs).
        const auto last = on_cpu_.last(tid);
        if (!last || *last || !switches_->open(tid)) {
            return std::nullopt;
        }
        // A thread asleep for good (or running without a break) writes no record: its state
        // read now, after its ring is there, holds until it writes one.
        if (const auto stat = process.target->thread_stats().read(tid)) {
            switches_->set_unswitched(tid, stat->running());
        }
    }
    return switches_->on_cpu(tid);
}

std::optional<bool> Sampler::on_cpu(Process& process, Tid tid, bool ask_stat) {
    if (auto state = switched(process, tid)) {
        return state;
    }
    std::optional<SchedstatCpuSource::Line> line;
    if (schedstat_ && schedstat_->open(tid)) {
        line = schedstat_->read_line(tid);
        if (line) {
            if (auto carried = on_cpu_.carried(tid, *line)) {
                return carried;
            }
        }
    }
    if (!ask_stat) {
        return std::nullopt;
    }
    const auto stat = process.target->thread_stats().read(tid);
    if (!stat) {
        return std::nullopt;
    }
    if (line) {
        on_cpu_.record(tid, *line, stat->running());
    }
    return stat->running();
}

void Sampler::set_paused(bool paused) {
    {
        std::lock_guard lock(pause_mutex_);
        paused_.store(paused);
    }
    resumed_.notify_all();
}

std::int64_t Sampler::wait_while_paused(const std::atomic<bool>& stop, std::int64_t end) {
    // The stop flag is set without notifying: it is looked at every 50 ms, like the ticker does.
    constexpr std::int64_t kStopCheckNs = 50'000'000;
    const std::int64_t start = monotonic_ns();
    std::unique_lock lock(pause_mutex_);
    for (std::int64_t now = start;
         paused_.load() && !stop.load(std::memory_order_relaxed) && now < end;
         now = monotonic_ns()) {
        resumed_.wait_for(lock, std::chrono::nanoseconds(std::min(kStopCheckNs, end - now)));
    }
    return monotonic_ns() - start;
}

void Sampler::refresh_threads(Process& process) {
    Target& target = *process.target;
    process.next_refresh_ns = monotonic_ns() + config_.thread_refresh_ns;
    const bool ok = target.refresh_threads();
    process.gone = !ok;
    forget_exited(process);
    if (!warned_files_ && process::ThreadFiles::refused() > 0) {
        warned_files_ = true;
        spdlog::warn("the open-file limit ({} descriptors) is too low for the {} threads of "
                     "process {}: cpuprof keeps up to 3 files open per thread, and threads "
                     "beyond the limit are sampled without their CPU time or on-CPU state; "
                     "raise it (ulimit -n) and record again",
                     process::ThreadFiles::budget() + process::ThreadFiles::kReserve,
                     target.os_threads().size(), target.pid());
    }
    // Python-level names (threading.Thread(name=...)) cost a few dict walks: read them only when
    // a thread appears that has not been named yet.
    bool unnamed = false;
    for (const auto& state : target.reader().threads()) {
        unnamed = unnamed || (state.native_id != 0 && !process.named.contains(state.thread_id));
    }
    python::ThreadNames names;
    const std::int64_t now = monotonic_ns();
    if (unnamed && ok && now >= process.next_names_ns) {
        try {
            names = python::read_thread_names(
                target.memory(), target.interpreter(),
                python::main_interpreter(target.memory(), target.interpreter()));
        } catch (const Error&) {
            names.clear(); // the OS names stand
        }
        // Until the program imports threading there are no names: look again a second later.
        process.next_names_ns = names.empty() ? now + kNamesRetryNs : 0;
    }
    std::lock_guard lock(mutex_);
    for (const auto& state : target.reader().threads()) {
        if (state.native_id == 0) {
            continue;
        }
        auto& info = profile_.threads[state.native_id];
        if (info.tid == 0) {
            info.tid = state.native_id;
            info.name = target.thread_name(state.native_id);
        }
        if (auto it = names.find(state.thread_id); it != names.end()) {
            info.name = it->second;
            process.named.insert(state.thread_id);
        } else if (!names.empty()) {
            process.named.insert(state.thread_id); // not a threading.Thread: keep the OS name
        }
    }
}

void Sampler::select_threads(Process& process, RemoteAddr gil) {
    auto& stats = profile_.stats;
    // set_idle() may change it between ticks (the live view's `i` key).
    const bool idle = idle_.load(std::memory_order_relaxed);
    profile_.idle_included = idle;
    selected_.clear();
    for (const auto& state : process.target->reader().threads()) {
        const Tid tid = state.native_id;
        const bool holds_gil = gil != 0 && gil == state.address;
        if (config_.gil_only && !holds_gil) {
            continue;
        }
        // The GIL holder is running Python code: on a CPU without asking /proc. Any other
        // thread is where its last switch record put it (no system call), or where it was at
        // the previous look while the scheduler has not moved it since (schedstat, 0.8 µs,
        // instead of formatting its whole stat line, 3.9 µs), which matters for services with
        // dozens of idle threads.
        if (!idle && tid != 0 && !holds_gil) {
            const auto running = on_cpu(process, tid);
            if (!running && process::ThreadFiles::exhausted()) {
                // No descriptor left under the open-file limit (warned at the thread refresh):
                // its state is unknown, and it is sampled as if on a CPU.
                selected_.push_back({&state, holds_gil, false});
                continue;
            }
            if (!running) {
                ++tick_failures_;
                continue;
            }
            if (!*running) {
                stats.idle_skipped++;
                continue;
            }
            selected_.push_back({&state, holds_gil, true});
            continue;
        }
        selected_.push_back({&state, holds_gil, holds_gil});
    }
}

void Sampler::keep_off_target_cpus(Process& process, Placing when, RemoteAddr gil) {
    Target& target = *process.target;
    if (!target.knows_cpus() || !placement_->can_move()) {
        return;
    }
    bool marked = false;
    auto mark = [&](const python::ThreadState& state) {
        if (auto cpu = target.thread_cpu(state)) {
            placement_->mark_busy(*cpu);
            marked = true;
        }
    };
    if (when == Placing::Holder) {
        // Right after the snapshot: its GIL state and CPU words are all this needs.
        const auto& threads = target.reader().threads();
        const auto holder = std::find_if(threads.begin(), threads.end(),
                                         [gil](const auto& state) { return state.address == gil; });
        if (gil != 0 && holder != threads.end()) {
            mark(*holder);
        }
    } else {
        for (const auto& pick : selected_) {
            if (pick.on_cpu && !pick.holds_gil) {
                mark(*pick.state);
            }
        }
    }
    if (marked) {
        moved_ = placement_->settle() || moved_;
    }
}

void Sampler::read_selected(Process& process, std::uint32_t tick_index) {
    auto& stats = profile_.stats;
    auto& reader = process.target->reader();
    const bool hold = config_.blocking || config_.native;
    for (const auto& pick : selected_) {
        // Each thread is held only while its own stack is read, never while the next one is
        // being stopped: a held thread killed by an execve elsewhere in the target must be reaped
        // before the next PTRACE_SEIZE, which would otherwise wait on that execve forever.
        std::optional<process::ThreadStop> pause;
        if (hold && pick.state->native_id != 0) {
            try {
                pause.emplace(process.target->pid(), pick.state->native_id);
            } catch (const Error& e) {
                if (!warned_stop_) {
                    warned_stop_ = true;
                    spdlog::warn("{}; that thread's samples are counted as failed", e.what());
                }
                stats.failed++;
                continue;
            }
            if (!pause->stopped()) {
                ++tick_failures_; // it exited, or is exiting
                continue;
            }
        }
        // Validated unless held: a thread whose OS id is not known yet cannot be stopped. A
        // thread that is not held is read from the tick's snapshot (when one was taken).
        reader.read_stack(*pick.state, stack_, !pause.has_value(), !pause.has_value());
        // A running thread calls and returns constantly: a read that saw its stack move is
        // retried at once rather than dropped, so that call-heavy code is not under-sampled.
        for (int retry = 0; retry < kTornRetries && stack_.status == python::ReadStatus::Torn;
             ++retry) {
            reader.read_stack(*pick.state, stack_, true);
        }
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
        const bool mixed = process.mixed && stack_.tid != 0;
        if (mixed) {
            process.mixed->capture(stack_.tid);
        }
        // Everything that needs the thread stopped is read: it goes on now, before the
        // symbolizing, merging and bookkeeping.
        pause.reset();
        stack_.holds_gil = pick.holds_gil;
        if (mixed) {
            record_mixed(process, stack_, tick_index);
        } else {
            record_stack(process, stack_, tick_index);
        }
    }
}

std::size_t Sampler::mark_asleep(Process& process) {
    const auto& threads = process.target->reader().threads();
    asleep_.assign(threads.size(), 0);
    if (idle_.load(std::memory_order_relaxed)) {
        return 0;
    }
    std::size_t asleep = 0;
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const Tid tid = threads[i].native_id;
        if (tid == 0) {
            continue; // sampled without an on-CPU check
        }
        if (const auto state = on_cpu(process, tid, false); state && !*state) {
            asleep_[i] = 1;
            ++asleep;
        }
    }
    return asleep;
}

void Sampler::sample_tick(Process& process, std::uint32_t tick_index) {
    auto& reader = process.target->reader();
    if (schedstat_) {
        schedstat_->begin_tick();
    }
    // Every thread asleep (its last switch was off a CPU, or its schedstat unchanged since it
    // was last seen asleep): none to read, so neither the GIL state nor any stack is. An idle
    // service then costs no system call but the timer's (a schedstat read per thread where
    // switch records are not to be had), and no process_vm_readv.
    if (const std::size_t asleep = mark_asleep(process);
        asleep > 0 && asleep == reader.threads().size()) {
        std::lock_guard lock(mutex_);
        profile_.stats.idle_skipped += asleep;
        return;
    }
    // Without holds every thread is read from one snapshot of the blocks the GIL state and the
    // previous samples of the threads that may be sampled touched (not those known to be
    // asleep; with --gil, the last holder's alone); a held thread must be read after its stop.
    const bool hold = config_.blocking || config_.native;
    if (!hold) {
        if (config_.gil_only) {
            std::fill(asleep_.begin(), asleep_.end(), 1);
        }
        reader.take_snapshot(asleep_);
    }
    const RemoteAddr gil = reader.gil_holder();
    if (!hold) {
        // Off the GIL holder's CPU before the rest of the tick runs beside it.
        keep_off_target_cpus(process, Placing::Holder, gil);
    }
    tick_stacks_.clear();
    tick_failures_ = 0;

    std::lock_guard lock(mutex_);
    select_threads(process, gil);
    if (config_.blocking || config_.native) {
        // A thread that reached its stop only after an earlier tick gave up waiting is let go
        // now, sampled this tick or not. Held threads are seized, so the kernel lets them go
        // should cpuprof die.
        process::settle_tracees();
    }
    if (!hold) {
        // And off those of the threads found on a CPU without the GIL.
        keep_off_target_cpus(process, Placing::Selected, 0);
    }
    read_selected(process, tick_index);
    reader.drop_snapshot();
    if (tick_failures_ > 0) {
        // A thread exited, or the whole interpreter is going away: re-read the thread list now.
        process.next_refresh_ns = 0;
    }
    // The RSS change since the last tick that kept a stack goes to this tick's stacks. A tick
    // that kept none (every thread idle) leaves it to the next one, and reads no statm: an idle
    // target costs one system call less per tick.
    if (tick_stacks_.empty() && process.last_rss) {
        return;
    }
    const auto rss = process.rss->read();
    if (rss && process.last_rss) {
        charge_rss(*rss - *process.last_rss);
    }
    if (rss) {
        process.last_rss = rss;
    }
}

} // namespace cpuprof::sampling
