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
    return files_.get(tid, [tid] { return open_schedstat(tid); }) >= 0;
}

std::optional<std::uint64_t> SchedstatCpuSource::read(Tid tid) {
    const int fd = files_.find(tid);
    return fd < 0 ? std::nullopt : read_fd(fd);
}

void SchedstatCpuSource::close(Tid tid) {
    files_.close(tid);
}

} // namespace cpuprof::sampling
