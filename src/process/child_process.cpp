#include "cpuprof/process/child_process.hpp"

#include "cpuprof/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cpuprof::process {

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        throw UsageError("no command to launch: give one after --, e.g. -- python3 app.py");
    }
    // A close-on-exec pipe tells the parent whether exec succeeded, and if not, why.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        throw TargetError(
            fmt::format("cannot launch '{}': pipe: {}", argv[0], std::strerror(errno)));
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const Pid pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(report[0]);
        ::close(report[1]);
        throw TargetError(fmt::format("cannot launch '{}': fork: {}", argv[0], std::strerror(err)));
    }
    if (pid == 0) {
        ::close(report[0]);
        // The program starts with no signal blocked, whatever cpuprof blocks for itself.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(args[0], args.data());
        const int err = errno;
        (void)!::write(report[1], &err, sizeof err);
        ::_exit(127);
    }
    ::close(report[1]);
    int err = 0;
    ssize_t got;
    do {
        got = ::read(report[0], &err, sizeof err);
    } while (got < 0 && errno == EINTR);
    ::close(report[0]);
    ChildProcess child(pid);
    if (got == static_cast<ssize_t>(sizeof err)) {
        child.wait_for(1000);
        throw TargetError(fmt::format("cannot run '{}': {} (check the command and your PATH)",
                                      argv[0], std::strerror(err)));
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_)
    , status_(other.status_) {
    other.pid_ = 0;
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !status_) {
        terminate(1000);
    }
}

std::optional<int> ChildProcess::poll() {
    if (status_ || pid_ <= 0) {
        return status_;
    }
    int status = 0;
    Pid r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else if (r < 0 && errno == ECHILD) {
        status_ = -1;
    }
    return status_;
}

std::optional<int> ChildProcess::wait_for(int timeout_ms) {
    for (int waited = 0;; waited += 5) {
        if (auto s = poll()) {
            return s;
        }
        if (waited >= timeout_ms) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void ChildProcess::terminate(int grace_ms) {
    if (pid_ <= 0 || poll()) {
        return;
    }
    ::kill(pid_, SIGTERM);
    if (!wait_for(grace_ms)) {
        ::kill(pid_, SIGKILL);
        wait_for(5000);
    }
}

} // namespace cpuprof::process
