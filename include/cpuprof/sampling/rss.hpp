#pragma once

#include "cpuprof/types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cpuprof::sampling {

/// The target's resident set size, from /proc/PID/statm kept open and re-read with pread.
class RssReader {
  public:
    explicit RssReader(Pid pid);
    ~RssReader();
    RssReader(const RssReader&) = delete;
    RssReader& operator=(const RssReader&) = delete;

    /// Resident bytes now; nullopt when the process is gone.
    [[nodiscard]] std::optional<std::int64_t> read();

    /// Resident bytes from the text of a statm file (second field, in pages).
    [[nodiscard]] static std::optional<std::int64_t> parse(std::string_view statm,
                                                           std::int64_t page_size);

  private:
    int fd_ = -1;
    std::int64_t page_size_;
};

} // namespace cpuprof::sampling
