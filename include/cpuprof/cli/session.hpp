#pragma once

#include "cpuprof/cli/options.hpp"
#include "cpuprof/process/child_process.hpp"
#include "cpuprof/sampling/sampler.hpp"
#include "cpuprof/sampling/target.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cpuprof::cli {

/// A target for record and top: attached by pid or launched, plus the signal handling that ends a
/// recording cleanly (SIGINT, SIGTERM, SIGHUP are waited for on the main thread while the sampler
/// runs on its own thread, so a signal never lands in the middle of a read or a ptrace stop).
/// SIGUSR1 pauses sampling and SIGUSR2 resumes it, both between ticks.
class Session {
  public:
    explicit Session(const TargetSpec& spec);
    ~Session();

    [[nodiscard]] sampling::Target& target() noexcept { return *target_; }
    [[nodiscard]] std::vector<std::string> command_line() const;

    /// Runs the sampler on its own thread until it stops (duration, target exit) or a signal
    /// arrives; calls `tick` about every 250 ms meanwhile (for a status line or a redraw).
    sampling::StopReason run_until_stopped(sampling::Sampler& sampler,
                                           const std::function<void()>& tick);

    /// Asks the sampler to stop (from the `tick` callback, e.g. on a key press).
    void request_stop() noexcept { stop_ = true; }

    /// Ends a launched command that is still running after the recording stopped.
    void finish(sampling::StopReason reason);

  private:
    std::optional<process::ChildProcess> child_;
    std::unique_ptr<sampling::Target> target_;
    std::atomic<bool> stop_{false};
};

} // namespace cpuprof::cli
