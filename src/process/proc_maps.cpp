#include "cpuprof/process/proc_maps.hpp"

#include "cpuprof/process/proc_files.hpp"

#include <charconv>
#include <fmt/format.h>

namespace cpuprof::process {

namespace {

bool parse_hex(std::string_view text, std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && ptr == text.data() + text.size();
}

std::string_view next_field(std::string_view& line) {
    while (!line.empty() && line.front() == ' ') {
        line.remove_prefix(1);
    }
    auto end = line.find(' ');
    auto field = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    return field;
}

} // namespace

std::vector<MemoryMap> parse_maps(std::string_view text) {
    std::vector<MemoryMap> maps;
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

        auto range = next_field(line);
        auto perms = next_field(line);
        auto offset = next_field(line);
        next_field(line); // device
        next_field(line); // inode
        while (!line.empty() && line.front() == ' ') {
            line.remove_prefix(1);
        }
        auto dash = range.find('-');
        MemoryMap map;
        if (dash == std::string_view::npos || perms.size() < 3 ||
            !parse_hex(range.substr(0, dash), map.start) ||
            !parse_hex(range.substr(dash + 1), map.end) || !parse_hex(offset, map.offset)) {
            continue;
        }
        map.readable = perms[0] == 'r';
        map.writable = perms[1] == 'w';
        map.executable = perms[2] == 'x';
        map.path = std::string(line);
        maps.push_back(std::move(map));
    }
    return maps;
}

std::optional<RemoteAddr> load_start(const std::vector<MemoryMap>& maps, const std::string& path) {
    std::optional<RemoteAddr> start;
    for (const auto& map : maps) {
        if (map.path == path && map.offset == 0 && (!start || map.start < *start)) {
            start = map.start;
        }
    }
    return start;
}

std::vector<MemoryMap> read_maps(Pid pid) {
    return parse_maps(read_proc_file(pid, "maps"));
}

} // namespace cpuprof::process
