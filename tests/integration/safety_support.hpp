#pragma once

#include "support.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cpuprof::testing {

/// One thread of a process as /proc shows it.
struct ThreadState {
    pid_t tid = 0;
    char state = '?'; ///< R, S, D, Z, T (stopped), t (held by a tracer) ...
    pid_t tracer = 0; ///< TracerPid: 0 when nobody traces it
};

std::vector<ThreadState> thread_states(pid_t pid);

/// Empty when no thread of `pid` is stopped ('t'/'T') or traced; otherwise names the ones that are.
std::string held_threads(pid_t pid);

/// True as soon as one of `tids` is seen in a ptrace stop ('t'), polling until `deadline`.
bool saw_ptrace_stop(pid_t pid,
                     const std::vector<pid_t>& tids,
                     std::chrono::steady_clock::time_point deadline);

/// A process started in the background with stdout and stderr going to files, so that a test can
/// signal it at a chosen moment and read what it printed. Killed and reaped when it goes away.
class Background {
  public:
    explicit Background(const std::vector<std::string>& argv);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    void signal(int sig) const;
    /// The exit status (128 + signal when killed), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    [[nodiscard]] std::string out() const;
    [[nodiscard]] std::string err() const;

  private:
    TempDir dir_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

/// tests/fixtures/steady_work.py: worker threads doing checked work until told to finish.
class SteadyTarget {
  public:
    explicit SteadyTarget(const Interpreter& interpreter, int workers = 3);

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::vector<pid_t>& workers() const { return workers_; }
    [[nodiscard]] pid_t sleeper() const { return sleeper_; }
    [[nodiscard]] std::vector<pid_t> all_threads() const;
    [[nodiscard]] std::string file(const std::string& name) const { return dir_.file(name); }

    /// True when every worker thread gains CPU time within `timeout`: the target is running.
    bool workers_progress(std::chrono::milliseconds timeout) const;

    /// Tells the target to finish and waits for its report ({"units", "wrong", "naps"}) and its
    /// exit; nullopt when it did not finish in time.
    std::optional<nlohmann::json> finish(std::chrono::milliseconds timeout);

    /// Waits for the process to exit; its status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout) { return process_->wait(timeout); }

  private:
    TempDir dir_;
    std::optional<Spawned> process_;
    pid_t pid_ = 0;
    std::vector<pid_t> workers_;
    pid_t sleeper_ = 0;
};

/// The pyenv interpreter the ptrace-heavy safety tests use (the newest one with a shared
/// libpython, which --native reads best), or nullptr when none is installed.
const Interpreter* safety_interpreter();

/// A random engine seeded from the clock; the seed goes into the test's INFO for replay.
std::mt19937& test_random(unsigned& seed);

} // namespace cpuprof::testing
