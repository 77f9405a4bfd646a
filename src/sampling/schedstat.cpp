#include "cpuprof/sampling/schedstat.hpp"

#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace cpuprof::sampling {

namespace {

int open_schedstat(Tid tid) {
    const auto path = fmt::format("/proc/{}/schedstat", tid);
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

std::optional<std::uint64_t> read_fd(int fd) {
    char buffer[128];
    const ssize_t got = ::pread(fd, buffer, sizeof buffer, 0);
    if (got <= 0) {
        return std::nullopt;
    }
    return SchedstatCpuSource::parse(std::string_view(buffer, static_cast<std::size_t>(got)));
}

} // namespace

SchedstatCpuSource::~SchedstatCpuSource() {
    for (auto& [tid, fd] : fds_) {
        ::close(fd);
    }
}

bool SchedstatCpuSource::available(Tid tid) {
    const int fd = open_schedstat(tid);
    if (fd < 0) {
        return false;
    }
    const bool ok = read_fd(fd).has_value();
    ::close(fd);
    return ok;
}

std::optional<std::uint64_t> SchedstatCpuSource::parse(std::string_view text) {
    std::uint64_t ns = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, ns);
    if (ec != std::errc() || ptr == end || *ptr != ' ') {
        return std::nullopt;
    }
    return ns;
}

bool SchedstatCpuSource::open(Tid tid) {
    if (fds_.contains(tid)) {
        return true;
    }
    const int fd = open_schedstat(tid);
    if (fd < 0) {
        return false;
    }
    fds_.emplace(tid, fd);
    return true;
}

std::optional<std::uint64_t> SchedstatCpuSource::read(Tid tid) {
    auto it = fds_.find(tid);
    if (it == fds_.end()) {
        return std::nullopt;
    }
    return read_fd(it->second);
}

void SchedstatCpuSource::close(Tid tid) {
    if (auto it = fds_.find(tid); it != fds_.end()) {
        ::close(it->second);
        fds_.erase(it);
    }
}

} // namespace cpuprof::sampling
