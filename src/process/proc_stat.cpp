#include "cpuprof/process/proc_stat.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/process/proc_maps.hpp"

#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace cpuprof::process {

std::optional<ProcStat> parse_stat(std::string_view text) {
    // pid (comm) state ppid ... ; comm is the only field that may contain spaces or ')'.
    auto close = text.rfind(')');
    if (close == std::string_view::npos || close + 2 >= text.size()) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(close + 2);
    ProcStat stat;
    stat.state = rest.front();
    // Field numbers from proc(5): 3 state, 9 flags, 14 utime, 15 stime.
    int field = 3;
    std::size_t pos = 0;
    while (pos < rest.size() && field < 15) {
        auto space = rest.find(' ', pos);
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        pos = space + 1;
        ++field;
        std::uint64_t* target = field == 9    ? &stat.flags
                                : field == 14 ? &stat.utime_ticks
                                : field == 15 ? &stat.stime_ticks
                                              : nullptr;
        if (target != nullptr) {
            auto end = rest.find(' ', pos);
            auto token =
                rest.substr(pos, end == std::string_view::npos ? rest.size() - pos : end - pos);
            std::from_chars(token.data(), token.data() + token.size(), *target);
        }
    }
    return field == 15 ? std::optional(stat) : std::nullopt;
}

std::optional<ProcStat> read_process_stat(Pid pid) {
    auto text = read_text_file(fmt::format("/proc/{}/stat", pid));
    if (!text) {
        return std::nullopt;
    }
    return parse_stat(*text);
}

std::optional<ProcStat> ThreadStatReader::read(Tid tid) {
    const int fd = files_.get(tid, [&] {
        const auto path = fmt::format("/proc/{}/task/{}/stat", pid_, tid);
        return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    });
    if (fd < 0) {
        return std::nullopt;
    }
    char buffer[1024];
    ssize_t got = ::pread(fd, buffer, sizeof buffer - 1, 0);
    if (got <= 0) {
        forget(tid);
        return std::nullopt;
    }
    return parse_stat(std::string_view(buffer, static_cast<std::size_t>(got)));
}

void ThreadStatReader::forget(Tid tid) {
    files_.close(tid);
}

void check_target(Pid pid) {
    auto stat = read_process_stat(pid);
    if (!stat) {
        throw TargetError(fmt::format("no process with pid {}: check the pid (ps -e)", pid));
    }
    if (stat->flags & kPfKthread) {
        throw NotPythonError(fmt::format(
            "process {} is a kernel thread, not a Python process: give the pid of a python process",
            pid));
    }
    if (stat->state == 'Z' || stat->state == 'X') {
        throw TargetError(fmt::format(
            "process {} is a zombie (it has exited and waits for its parent): nothing to profile",
            pid));
    }
    // Reading the maps needs the same ptrace access as reading memory: a clean permission check.
    (void)read_maps(pid);
}

} // namespace cpuprof::process
