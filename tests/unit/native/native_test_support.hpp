#pragma once

#include "cpuprof/types.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace cpuprof::test {

using namespace std::chrono_literals;

/// A child process that reports events as single bytes on a pipe; SIGKILLed and reaped when the
/// object goes away, so a failing test never leaks a spinning process.
class ChildProcess {
  public:
    /// The child's end of the event pipe.
    static constexpr int kEventFd = 3;

    /// Runs `argv` (argv[0] is the path) with the event pipe as fd kEventFd.
    static ChildProcess exec(const std::vector<std::string>& argv);
    /// Runs `body` in a forked child with the event pipe's write end; its result is the exit code.
    static ChildProcess fork(const std::function<int(int event_fd)>& body);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    /// Waits for the byte `event`, skipping others; false on timeout or end of file.
    [[nodiscard]] bool wait_for(char event, std::chrono::milliseconds timeout);
    /// Everything the child wrote, up to end of file or `timeout` of silence.
    [[nodiscard]] std::string read_all(std::chrono::milliseconds timeout);
    /// Reads and discards what is in the pipe now; returns how many bytes.
    std::size_t drain();
    /// Waits for the child to exit (reaps it); returns the wait status.
    int wait();
    void kill_and_reap() noexcept;

  private:
    ChildProcess(Pid pid, int read_fd)
        : pid_(pid)
        , read_fd_(read_fd) {}
    Pid pid_ = -1;
    int read_fd_ = -1;
};

/// The state letter of /proc/PID/task/TID/stat ('R', 'S', 't', 'T', ...), '?' when it is gone.
[[nodiscard]] char thread_state(Pid pid, Tid tid);
/// Polls the state until `accept` holds or `timeout` passes; returns the last state seen.
char wait_for_state(Pid pid,
                    Tid tid,
                    const std::function<bool(char)>& accept,
                    std::chrono::milliseconds timeout = 5s);
[[nodiscard]] std::vector<Tid> thread_ids(Pid pid);

[[nodiscard]] std::string spinner_path();
[[nodiscard]] std::string fixture_library_path();
[[nodiscard]] std::string native_fixture_dir();

struct Interpreter {
    std::string label; ///< e.g. "pyenv 3.12"
    std::string path;
};
/// The interpreters the live tests run against; missing ones are reported with WARN and left out.
[[nodiscard]] std::vector<Interpreter> available_interpreters();

} // namespace cpuprof::test
