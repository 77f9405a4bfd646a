#include "cpuprof/sampling/deadline_timers.hpp"

#include <cerrno>
#include <sys/timerfd.h>
#include <unistd.h>

namespace cpuprof::sampling {

namespace {
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
} // namespace

DeadlineTimers::DeadlineTimers() {
    for (int& fd : fds_) {
        fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    }
    if (!usable()) {
        close_all(); // out of descriptors: the ticker sleeps with clock_nanosleep instead
    }
}

DeadlineTimers::~DeadlineTimers() {
    close_all();
}

void DeadlineTimers::close_all() noexcept {
    for (int& fd : fds_) {
        if (fd >= 0) {
            ::close(fd);
        }
        fd = -1;
    }
    armed_ = {kNotArmed, kNotArmed};
}

bool DeadlineTimers::arm(int timer, std::int64_t deadline_ns) {
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(deadline_ns / kNsPerSecond);
    spec.it_value.tv_nsec = static_cast<long>(deadline_ns % kNsPerSecond);
    if (::timerfd_settime(fds_[timer], TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
        close_all();
        return false;
    }
    armed_[timer] = deadline_ns;
    return true;
}

bool DeadlineTimers::rearm_here() {
    for (int timer = 0; timer < 2; ++timer) {
        if (usable() && armed_[timer] != kNotArmed && !arm(timer, armed_[timer])) {
            return false;
        }
    }
    return usable();
}

bool DeadlineTimers::sleep_until(std::int64_t deadline_ns, std::int64_t following_ns) {
    if (!usable()) {
        return false;
    }
    if (deadline_ns <= 0) {
        return true; // passed long ago, and an expiry of 0 would disarm the timer instead
    }
    int next = armed_[0] == deadline_ns ? 0 : (armed_[1] == deadline_ns ? 1 : -1);
    if (next < 0) {
        // Out of step (the first tick, a pause, lost ticks): keep a timer that is already armed
        // for the following deadline, arm the other one for this deadline.
        next = armed_[0] == following_ns ? 1 : 0;
        if (!arm(next, deadline_ns)) {
            return false;
        }
    }
    const int other = 1 - next;
    // Armed while the earlier deadline is pending: the hardware is not touched.
    if (following_ns > deadline_ns && armed_[other] != following_ns && !arm(other, following_ns)) {
        return false;
    }
    std::uint64_t expirations = 0;
    const ssize_t got = ::read(fds_[next], &expirations, sizeof expirations);
    if (got == static_cast<ssize_t>(sizeof expirations)) {
        armed_[next] = kNotArmed;
        return true;
    }
    if (got < 0 && errno == EINTR) {
        return false;
    }
    close_all();
    return false;
}

} // namespace cpuprof::sampling
