#include "cpuprof/sampling/rss.hpp"

#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace cpuprof::sampling {

RssReader::RssReader(Pid pid)
    : page_size_(::sysconf(_SC_PAGESIZE)) {
    auto path = fmt::format("/proc/{}/statm", pid);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

RssReader::~RssReader() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::optional<std::int64_t> RssReader::parse(std::string_view statm, std::int64_t page_size) {
    auto space = statm.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    statm.remove_prefix(space + 1);
    std::int64_t pages = 0;
    auto [ptr, ec] = std::from_chars(statm.data(), statm.data() + statm.size(), pages);
    if (ec != std::errc()) {
        return std::nullopt;
    }
    return pages * page_size;
}

std::optional<std::int64_t> RssReader::read() {
    if (fd_ < 0) {
        return std::nullopt;
    }
    char buffer[256];
    ssize_t got = ::pread(fd_, buffer, sizeof buffer - 1, 0);
    if (got <= 0) {
        return std::nullopt;
    }
    return parse(std::string_view(buffer, static_cast<std::size_t>(got)), page_size_);
}

} // namespace cpuprof::sampling
