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

std::optional<SchedstatCpuSource::Line> read_fd(int fd) {
    char buffer[128];
    const ssize_t got = ::pread(fd, buffer, sizeof buffer, 0);
    if (got <= 0) {
        return std::nullopt;
    }
    return SchedstatCpuSource::parse_line(std::string_view(buffer, static_cast<std::size_t>(got)));
}

/// The unsigned decimal at the start of `text`, which must be followed by `next`; `text` is
/// left after it.
std::optional<std::uint64_t> take_number(std::string_view& text, char next) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr == end || *ptr != next) {
        return std::nullopt;
    }
    text.remove_prefix(static_cast<std::size_t>(ptr + 1 - text.data()));
    return value;
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
    return take_number(text, ' ');
}

std::optional<SchedstatCpuSource::Line> SchedstatCpuSource::parse_line(std::string_view text) {
    const auto runtime = take_number(text, ' ');
    const auto waited = runtime ? take_number(text, ' ') : std::nullopt;
    const auto switches = waited ? take_number(text, '\n') : std::nullopt;
    if (!switches) {
        return std::nullopt;
    }
    return Line{*runtime, *switches};
}

std::optional<SchedstatCpuSource::Line> SchedstatCpuSource::read_line(Tid tid) {
    if (tick_ != 0) {
        if (auto it = cached_.find(tid); it != cached_.end() && it->second.tick == tick_) {
            return it->second.line;
        }
    }
    const int fd = files_.find(tid);
    const auto line = fd < 0 ? std::nullopt : read_fd(fd);
    if (line && tick_ != 0) {
        cached_.insert_or_assign(tid, Cached{tick_, *line});
    }
    return line;
}

bool SchedstatCpuSource::open(Tid tid) {
    return files_.get(tid, [tid] { return open_schedstat(tid); }) >= 0;
}

std::optional<std::uint64_t> SchedstatCpuSource::read(Tid tid) {
    const auto line = read_line(tid);
    return line ? std::optional<std::uint64_t>(line->runtime_ns) : std::nullopt;
}

void SchedstatCpuSource::close(Tid tid) {
    cached_.erase(tid);
    files_.close(tid);
}

} // namespace cpuprof::sampling
