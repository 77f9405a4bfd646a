#include "native_test_support.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cpuprof::test {

namespace {

struct Pipe {
    int read_fd = -1;
    int write_fd = -1;
};

Pipe make_pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    return {fds[0], fds[1]};
}

// In the forked child: put the pipe's write end at kEventFd, without close-on-exec.
void install_event_fd(const Pipe& pipe) {
    ::close(pipe.read_fd);
    if (pipe.write_fd == ChildProcess::kEventFd) {
        ::fcntl(pipe.write_fd, F_SETFD, 0);
    } else {
        ::dup2(pipe.write_fd, ChildProcess::kEventFd);
        ::close(pipe.write_fd);
    }
}

// One byte, or -1 on timeout / end of file.
int read_byte(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    int ready = 0;
    do {
        ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
        return -1;
    }
    char c = 0;
    return ::read(fd, &c, 1) == 1 ? static_cast<unsigned char>(c) : -1;
}

} // namespace

ChildProcess ChildProcess::exec(const std::vector<std::string>& argv) {
    REQUIRE(!argv.empty());
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const Pipe pipe = make_pipe();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        install_event_fd(pipe);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(pipe.write_fd);
    return {pid, pipe.read_fd};
}

ChildProcess ChildProcess::fork(const std::function<int(int event_fd)>& body) {
    const Pipe pipe = make_pipe();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipe.read_fd);
        int code = 1;
        try {
            code = body(pipe.write_fd);
        } catch (...) {
            code = 99;
        }
        ::_exit(code);
    }
    ::close(pipe.write_fd);
    return {pid, pipe.read_fd};
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1))
    , read_fd_(std::exchange(other.read_fd_, -1)) {}

ChildProcess::~ChildProcess() {
    kill_and_reap();
    if (read_fd_ >= 0) {
        ::close(read_fd_);
    }
}

bool ChildProcess::wait_for(char event, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) {
            return false;
        }
        const int c = read_byte(read_fd_, left);
        if (c < 0) {
            return false;
        }
        if (c == static_cast<unsigned char>(event)) {
            return true;
        }
    }
}

std::string ChildProcess::read_all(std::chrono::milliseconds timeout) {
    std::string text;
    for (int c = read_byte(read_fd_, timeout); c >= 0; c = read_byte(read_fd_, timeout)) {
        text.push_back(static_cast<char>(c));
    }
    return text;
}

std::size_t ChildProcess::drain() {
    std::size_t count = 0;
    while (read_byte(read_fd_, 0ms) >= 0) {
        ++count;
    }
    return count;
}

int ChildProcess::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
}

void ChildProcess::kill_and_reap() noexcept {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
}

char thread_state(Pid pid, Tid tid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) {
        return '?';
    }
    // The command name is in parentheses and may contain anything; the state follows the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) {
        return '?';
    }
    return line[close + 2];
}

char wait_for_state(Pid pid,
                    Tid tid,
                    const std::function<bool(char)>& accept,
                    std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char state = thread_state(pid, tid);
    while (!accept(state) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
        state = thread_state(pid, tid);
    }
    return state;
}

std::vector<Tid> thread_ids(Pid pid) {
    std::vector<Tid> tids;
    const std::string path = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        return tids;
    }
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            tids.push_back(static_cast<Tid>(std::atoi(entry->d_name)));
        }
    }
    ::closedir(dir);
    return tids;
}

std::string spinner_path() {
    return CPUPROF_NATIVE_SPINNER;
}
std::string fixture_library_path() {
    return CPUPROF_NATIVE_FIXTURE_LIBRARY;
}
std::string native_fixture_dir() {
    return CPUPROF_NATIVE_FIXTURE_DIR;
}

std::vector<Interpreter> available_interpreters() {
    const std::vector<Interpreter> wanted{
        {"pyenv 3.10", "/root/.pyenv/versions/3.10.13/bin/python3.10"},
        {"pyenv 3.12", "/root/.pyenv/versions/3.12.1/bin/python3.12"},
        {"pyenv 3.13", "/root/.pyenv/versions/3.13.0/bin/python3.13"},
        {"Debian 3.11 (static, stripped)", "/usr/bin/python3.11"},
    };
    std::vector<Interpreter> found;
    for (const auto& interpreter : wanted) {
        if (::access(interpreter.path.c_str(), X_OK) == 0) {
            found.push_back(interpreter);
        } else {
            WARN("skipping " << interpreter.label << ": " << interpreter.path << " is missing");
        }
    }
    return found;
}

} // namespace cpuprof::test
