#include "safety_support.hpp"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace cpuprof::testing {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The state letter of /proc/PID/task/TID/stat: the field after the parenthesised command name,
// which may itself contain spaces and parentheses.
std::optional<char> stat_state(const std::string& stat) {
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) {
        return std::nullopt;
    }
    return stat[close + 2];
}

// utime + stime (fields 14 and 15) of one thread, in clock ticks.
std::optional<std::uint64_t> thread_cpu(pid_t pid, pid_t tid) {
    const auto stat = read_file(fmt::format("/proc/{}/task/{}/stat", pid, tid));
    const auto utime = stat_field(stat, 14);
    const auto stime = stat_field(stat, 15);
    if (!utime || !stime) {
        return std::nullopt;
    }
    return std::stoull(*utime) + std::stoull(*stime);
}

pid_t tracer_of(pid_t pid, pid_t tid) {
    std::istringstream status(read_file(fmt::format("/proc/{}/task/{}/status", pid, tid)));
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("TracerPid:")) {
            return static_cast<pid_t>(std::stol(line.substr(10)));
        }
    }
    return 0;
}

} // namespace

std::vector<ThreadState> thread_states(pid_t pid) {
    std::vector<ThreadState> threads;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        const auto tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
        const auto state = stat_state(read_file(fmt::format("/proc/{}/task/{}/stat", pid, tid)));
        if (state) {
            threads.push_back({tid, *state, tracer_of(pid, tid)});
        }
    }
    return threads;
}

std::string held_threads(pid_t pid) {
    std::string held;
    for (const auto& t : thread_states(pid)) {
        if (t.state == 't' || t.state == 'T' || t.tracer != 0) {
            held += fmt::format("{}thread {} state {} tracer {}", held.empty() ? "" : ", ", t.tid,
                                t.state, t.tracer);
        }
    }
    return held;
}

bool saw_ptrace_stop(pid_t pid,
                     const std::vector<pid_t>& tids,
                     std::chrono::steady_clock::time_point deadline) {
    std::vector<std::string> paths;
    for (pid_t tid : tids) {
        paths.push_back(fmt::format("/proc/{}/task/{}/stat", pid, tid));
    }
    char buffer[512];
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& path : paths) {
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            const ssize_t got = ::read(fd, buffer, sizeof buffer - 1);
            ::close(fd);
            if (got > 0) {
                if (auto state = stat_state(std::string(buffer, static_cast<std::size_t>(got)));
                    state && *state == 't') {
                    return true;
                }
            }
        }
    }
    return false;
}

Background::Background(const std::vector<std::string>& argv) {
    const auto out_path = dir_.file("out");
    const auto err_path = dir_.file("err");
    pid_ = start_process(argv, [&] { redirect_stdio(out_path, err_path); });
}

Background::~Background() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

void Background::signal(int sig) const {
    ::kill(pid_, sig);
}

std::optional<int> Background::wait(std::chrono::milliseconds timeout) {
    if (!status_) {
        status_ = wait_exit(pid_, timeout, std::chrono::milliseconds(2));
    }
    return status_;
}

std::string Background::out() const {
    return read_file(dir_.file("out"));
}
std::string Background::err() const {
    return read_file(dir_.file("err"));
}

SteadyTarget::SteadyTarget(const Interpreter& interpreter, int workers) {
    process_.emplace(std::vector<std::string>{interpreter.path, fixture("steady_work.py"),
                                              dir_.file("ready"), dir_.file("stop"),
                                              dir_.file("done"), std::to_string(workers)});
    if (!wait_for_file(dir_.file("ready"), std::chrono::seconds(30))) {
        throw std::runtime_error("steady_work.py did not start within 30 s");
    }
    const json ready = json::parse(read_file(dir_.file("ready")));
    pid_ = ready["pid"].get<pid_t>();
    workers_ = ready["workers"].get<std::vector<pid_t>>();
    sleeper_ = ready["sleeper"].get<pid_t>();
}

std::vector<pid_t> SteadyTarget::all_threads() const {
    std::vector<pid_t> tids = workers_;
    tids.push_back(sleeper_);
    tids.push_back(pid_);
    return tids;
}

bool SteadyTarget::workers_progress(std::chrono::milliseconds timeout) const {
    std::vector<std::uint64_t> before;
    for (pid_t tid : workers_) {
        before.push_back(thread_cpu(pid_, tid).value_or(0));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::set<std::size_t> waiting;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        waiting.insert(i);
    }
    while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
        std::erase_if(waiting, [&](std::size_t i) {
            return thread_cpu(pid_, workers_[i]).value_or(0) > before[i];
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return waiting.empty();
}

std::optional<json> SteadyTarget::finish(std::chrono::milliseconds timeout) {
    std::ofstream(dir_.file("stop")) << "stop\n";
    if (!wait_for_file(dir_.file("done"), timeout)) {
        return std::nullopt;
    }
    const auto status = process_->wait(std::chrono::seconds(10));
    if (!status || *status != 0) {
        return std::nullopt;
    }
    return json::parse(read_file(dir_.file("done")));
}

const Interpreter* safety_interpreter() {
    const Interpreter* best = nullptr;
    for (const auto& interp : interpreters()) {
        if (interp.label.find("pyenv") != std::string::npos &&
            (best == nullptr || interp.minor > best->minor)) {
            best = &interp;
        }
    }
    if (best == nullptr && !interpreters().empty()) {
        best = &interpreters().front();
    }
    return best;
}

std::mt19937& test_random(unsigned& seed) {
    static std::mt19937 engine;
    seed = static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count() &
                                 0xffffffffu);
    engine.seed(seed);
    return engine;
}

} // namespace cpuprof::testing
