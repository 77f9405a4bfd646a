#include "cpuprof/process/proc_files.hpp"

#include "cpuprof/error.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace cpuprof::process {

namespace {

int read_all(int fd, std::string& out) {
    char buffer[16384];
    for (;;) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (got == 0) {
            return 0;
        }
        out.append(buffer, static_cast<std::size_t>(got));
    }
}

} // namespace

std::string permission_hint(Pid pid) {
    std::string hint = fmt::format("permission denied reading process {}: run cpuprof as root or "
                                   "grant it CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep $(which "
                                   "cpuprof); in Docker: --cap-add SYS_PTRACE)",
                                   pid);
    if (::geteuid() != 0) {
        if (auto scope = read_text_file("/proc/sys/kernel/yama/ptrace_scope");
            scope && !scope->empty() && (*scope)[0] != '0') {
            hint += fmt::format("; Yama ptrace_scope is {} (echo 0 > "
                                "/proc/sys/kernel/yama/ptrace_scope to allow non-root tracing)",
                                (*scope)[0]);
        }
    }
    return hint;
}

std::string read_proc_file(Pid pid, const std::string& name) {
    auto path = fmt::format("/proc/{}/{}", pid, name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    std::string text;
    if (fd >= 0) {
        err = read_all(fd, text);
        ::close(fd);
    }
    if (err == 0) {
        return text;
    }
    if (err == EACCES || err == EPERM) {
        throw PermissionError(permission_hint(pid));
    }
    if (err == ENOENT || err == ESRCH) {
        throw TargetError(fmt::format("no process with pid {}: check the pid (ps -e)", pid));
    }
    throw TargetError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
}

std::optional<std::string> read_text_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string text;
    int err = read_all(fd, text);
    ::close(fd);
    if (err != 0) {
        return std::nullopt;
    }
    return text;
}

std::vector<Tid> list_threads(Pid pid) {
    std::vector<Tid> tids;
    auto path = fmt::format("/proc/{}/task", pid);
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        return tids;
    }
    while (dirent* entry = ::readdir(dir)) {
        Tid tid = 0;
        const char* name = entry->d_name;
        auto [ptr, ec] = std::from_chars(name, name + std::strlen(name), tid);
        if (ec == std::errc() && *ptr == '\0' && tid > 0) {
            tids.push_back(tid);
        }
    }
    ::closedir(dir);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::vector<Pid> descendants(Pid pid) {
    std::vector<Pid> found;
    std::vector<Pid> pending{pid};
    // Bounded: a fork bomb must not keep cpuprof busy.
    constexpr std::size_t kMaxProcesses = 4096;
    while (!pending.empty() && found.size() < kMaxProcesses) {
        const Pid parent = pending.back();
        pending.pop_back();
        for (Tid tid : list_threads(parent)) {
            auto text = read_text_file(fmt::format("/proc/{}/task/{}/children", parent, tid));
            if (!text) {
                continue;
            }
            const char* p = text->data();
            const char* end = p + text->size();
            while (p < end) {
                Pid child = 0;
                auto [next, ec] = std::from_chars(p, end, child);
                if (ec != std::errc()) {
                    ++p;
                    continue;
                }
                if (child > 0 && std::find(found.begin(), found.end(), child) == found.end()) {
                    found.push_back(child);
                    pending.push_back(child);
                }
                p = next;
            }
        }
    }
    return found;
}

std::string thread_comm(Pid pid, Tid tid) {
    auto text = read_text_file(fmt::format("/proc/{}/task/{}/comm", pid, tid));
    if (!text) {
        return {};
    }
    while (!text->empty() && (text->back() == '\n' || text->back() == '\0')) {
        text->pop_back();
    }
    return *text;
}

std::string executable_path(Pid pid) {
    auto link = fmt::format("/proc/{}/exe", pid);
    char buffer[4096];
    ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer - 1);
    if (n < 0) {
        return {};
    }
    std::string path(buffer, static_cast<std::size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.ends_with(kDeleted)) {
        path.resize(path.size() - kDeleted.size());
    }
    return path;
}

std::vector<std::string> command_line(Pid pid) {
    std::vector<std::string> args;
    auto text = read_text_file(fmt::format("/proc/{}/cmdline", pid));
    if (!text) {
        return args;
    }
    std::size_t start = 0;
    while (start < text->size()) {
        auto end = text->find('\0', start);
        if (end == std::string::npos) {
            end = text->size();
        }
        args.emplace_back(text->substr(start, end - start));
        start = end + 1;
    }
    return args;
}

} // namespace cpuprof::process
