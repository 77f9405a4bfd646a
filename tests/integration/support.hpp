#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cpuprof::testing {

/// A CPython interpreter found on this machine.
struct Interpreter {
    std::string label; ///< "3.12 (pyenv)", "3.11 (distribution)"
    std::string path;
    int minor = 0;
};

/// The interpreters the integration tests run against: pyenv's 3.8-3.13 and the distribution's
/// python3. Prints (once) which were found and which were skipped.
const std::vector<Interpreter>& interpreters();

/// A directory removed (with its files) when the object goes away.
struct TempDir {
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] std::string file(const std::string& name) const { return path + "/" + name; }
    std::string path;
};

/// Forks a child that runs `prepare` (which may _exit) and then execs `argv`; exits 127 when the
/// exec fails. Returns the child's pid.
pid_t start_process(const std::vector<std::string>& argv,
                    const std::function<void()>& prepare = {});

/// For `prepare` in a child: stdout and stderr to these files (created), stdin from /dev/null.
void redirect_stdio(const std::string& out_path, const std::string& err_path);

/// Polls (every `interval`) until `pid` exits and reaps it: its exit status (128 + signal when
/// killed), or nullopt when it is still running after `timeout`.
std::optional<int>
wait_exit(pid_t pid, std::chrono::milliseconds timeout, std::chrono::milliseconds interval);

/// A process started for a test; killed and reaped when the object goes away.
class Spawned {
  public:
    explicit Spawned(const std::vector<std::string>& argv);
    ~Spawned();
    Spawned(const Spawned&) = delete;
    Spawned& operator=(const Spawned&) = delete;
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// Waits for exit; returns the exit status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    void signal(int sig);

  private:
    pid_t pid_;
    std::optional<int> status_;
};

/// Waits until `path` exists and is non-empty (the fixtures write their ready file atomically).
bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout);
std::string read_file(const std::string& path);
/// Field `number` (numbered as in proc(5): 3 is the state) of a /proc stat line, whose command
/// name may hold spaces and parentheses; nullopt when the line is shorter.
std::optional<std::string> stat_field(const std::string& stat, int number);

struct CommandResult {
    int status = -1;
    std::string out;
    std::string err;
};

/// Runs a command to completion, capturing stdout and stderr; `prepare` runs in the child after
/// the redirection and before the exec (see start_process).
CommandResult run(const std::vector<std::string>& argv, const std::function<void()>& prepare = {});

/// The cpuprof binary and the fixture directory, from the build.
std::string cpuprof_binary();
std::string fixture(const std::string& name);

/// Samples of a JSON profile whose stack contains a frame named `function`.
std::uint64_t samples_in(const nlohmann::json& profile, const std::string& function);

} // namespace cpuprof::testing
