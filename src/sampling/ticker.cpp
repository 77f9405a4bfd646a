#include "cpuprof/sampling/ticker.hpp"

#include <algorithm>
#include <cerrno>

namespace cpuprof::sampling {

namespace {
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kStopCheckNs = 50'000'000;

timespec to_timespec(std::int64_t ns) {
    return timespec{static_cast<time_t>(ns / kNsPerSecond), static_cast<long>(ns % kNsPerSecond)};
}
} // namespace

std::int64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

std::int64_t kernel_tick_ns() {
    timespec resolution{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) {
        return 0;
    }
    return static_cast<std::int64_t>(resolution.tv_sec) * kNsPerSecond + resolution.tv_nsec;
}

Ticker::Ticker(double rate_hz, bool jitter)
    : period_ns_(std::max<std::int64_t>(1, static_cast<std::int64_t>(kNsPerSecond / rate_hz)))
    , jitter_(jitter) {
    const std::int64_t tick = kernel_tick_ns();
    if (tick == 0 || period_ns_ < tick) {
        timers_.emplace();
    }
    start_at(monotonic_ns());
}

void Ticker::start_at(std::int64_t now_ns) {
    next_ns_ = now_ns;
    index_ = 0;
    random_state_ ^= static_cast<std::uint64_t>(now_ns);
    offset_ns_ = draw_offset();
    following_offset_ns_ = draw_offset();
}

void Ticker::resume_at(std::int64_t now_ns) {
    if (now_ns > next_ns_) {
        index_ += static_cast<std::uint64_t>((now_ns - next_ns_) / period_ns_);
        next_ns_ = now_ns;
    }
    offset_ns_ = draw_offset();
    following_offset_ns_ = draw_offset();
}

std::int64_t Ticker::draw_offset() noexcept {
    if (!jitter_) {
        return 0;
    }
    // xorshift64*: cheap, and plenty for spreading deadlines over a period.
    random_state_ ^= random_state_ >> 12;
    random_state_ ^= random_state_ << 25;
    random_state_ ^= random_state_ >> 27;
    const std::uint64_t r = random_state_ * 0x2545f4914f6cdd1dULL;
    return static_cast<std::int64_t>(r % static_cast<std::uint64_t>(period_ns_));
}

void Ticker::account(std::int64_t now_ns, Tick& tick) {
    const std::int64_t behind = now_ns - (next_ns_ + offset_ns_);
    tick.lost = 0;
    if (behind >= period_ns_) {
        // Whole periods passed without service: skip them rather than sampling in a burst.
        tick.lost = static_cast<std::uint64_t>(behind / period_ns_);
        next_ns_ += static_cast<std::int64_t>(tick.lost) * period_ns_;
        index_ += tick.lost;
    }
    tick.late = now_ns - (next_ns_ + offset_ns_) > period_ns_ / 2;
    tick.index = index_;
    ++index_;
    next_ns_ += period_ns_;
    offset_ns_ = following_offset_ns_;
    following_offset_ns_ = draw_offset();
}

bool Ticker::wait(Tick& tick, const std::atomic<bool>* stop) {
    for (;;) {
        if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
            return false;
        }
        const std::int64_t now = monotonic_ns();
        const std::int64_t deadline = next_ns_ + offset_ns_;
        if (now >= deadline) {
            account(now, tick);
            return true;
        }
        if (deadline - now <= kStopCheckNs && sleeps_on_timer_pair()) {
            // Woken at the deadline, or early by a signal: the loop looks at the clock again.
            timers_->sleep_until(deadline, following_deadline_ns());
            continue;
        }
        const std::int64_t target = std::min(deadline, now + kStopCheckNs);
        const timespec ts = to_timespec(target);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
                return false;
            }
        }
    }
}

} // namespace cpuprof::sampling
