// Runs a command and writes its resource usage, from wait4, as one JSON line:
//   rusage_run OUT.json -- COMMAND ARGS...
//   {"pid": N, "exit_status": 0, "signal": 0, "user_s": ..., "system_s": ..., "maxrss_kb": ...}
// Why not wait4 from the Python benchmark driver itself: Linux carries the spawning process's RSS
// into the child's ru_maxrss across exec (exec_mmap folds the old mm's high-water mark into it),
// so anything a 15 MB Python process starts reports at least 15 MB. Started from this small
// program the floor is about a megabyte. SIGINT, SIGTERM and SIGHUP are passed on to the command.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t child_pid = 0;
volatile sig_atomic_t pending_signal = 0;

void forward(int sig) {
    if (child_pid > 0) {
        ::kill(child_pid, sig);
    } else {
        pending_signal = sig;
    }
}

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
        std::fputs("usage: rusage_run OUT.json -- COMMAND ARGS...\n", stderr);
        return 2;
    }
    const char* out_path = argv[1];
    struct sigaction action {};
    action.sa_handler = forward;
    sigemptyset(&action.sa_mask);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        ::sigaction(sig, &action, nullptr);
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "rusage_run: fork failed: %s\n", std::strerror(errno));
        return 1;
    }
    if (pid == 0) {
        ::execvp(argv[3], argv + 3);
        std::fprintf(stderr, "rusage_run: cannot run %s: %s\n", argv[3], std::strerror(errno));
        ::_exit(127);
    }
    child_pid = pid;
    if (pending_signal != 0) {
        ::kill(pid, pending_signal);
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "rusage_run: wait4(%d) failed: %s\n", pid, std::strerror(errno));
            return 1;
        }
    }
    const int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::FILE* out = std::fopen(out_path, "w");
    if (out == nullptr) {
        std::fprintf(stderr, "rusage_run: cannot write %s: %s\n", out_path, std::strerror(errno));
        return 1;
    }
    std::fprintf(out,
                 "{\"pid\": %d, \"exit_status\": %d, \"signal\": %d, \"user_s\": %.6f, "
                 "\"system_s\": %.6f, \"maxrss_kb\": %ld}\n",
                 pid, exit_status, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                 seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss);
    std::fclose(out);
    return exit_status;
}
