#include "cpuprof/python/version.hpp"

#include <charconv>
#include <fmt/format.h>

namespace cpuprof::python {

namespace {

// Bounds that no real CPython release comes near; anything outside is garbage, not a version.
constexpr int kMaxMajor = 9;
constexpr int kMaxMinor = 99;
constexpr int kMaxMicro = 99;

// PY_RELEASE_LEVEL_ALPHA/BETA/GAMMA/FINAL.
constexpr bool is_release_level(unsigned level) {
    return level == 0xA || level == 0xB || level == 0xC || level == 0xF;
}

constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Parses the decimal number at the front of `text` and drops it; nullopt when there is none or it
// is larger than `max`.
std::optional<int> take_number(std::string_view& text, int max) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0 || value > max) {
        return std::nullopt;
    }
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

// "MAJOR.MINOR" with an optional ".MICRO" at the front of `text`. A micro part is taken only when
// `with_micro` is set: in file names the text after the minor version is a suffix (".so.1.0").
std::optional<PythonVersion> parse_dotted(std::string_view text, bool with_micro) {
    PythonVersion version;
    auto major = take_number(text, kMaxMajor);
    if (!major || *major == 0 || text.empty() || text.front() != '.') {
        return std::nullopt;
    }
    text.remove_prefix(1);
    auto minor = take_number(text, kMaxMinor);
    if (!minor) {
        return std::nullopt;
    }
    version.major = *major;
    version.minor = *minor;
    if (with_micro && text.size() >= 2 && text.front() == '.' && is_digit(text[1])) {
        text.remove_prefix(1);
        auto micro = take_number(text, kMaxMicro);
        if (!micro) {
            return std::nullopt;
        }
        version.micro = *micro;
    }
    return version;
}

} // namespace

std::string PythonVersion::str() const {
    return fmt::format("{}.{}.{}", major, minor, micro);
}

std::optional<PythonVersion> version_from_hex(std::uint64_t hex) {
    if (hex > 0xFFFFFFFFULL) {
        return std::nullopt;
    }
    const auto major = static_cast<int>((hex >> 24) & 0xFF);
    const auto minor = static_cast<int>((hex >> 16) & 0xFF);
    const auto micro = static_cast<int>((hex >> 8) & 0xFF);
    const auto level = static_cast<unsigned>((hex >> 4) & 0xF);
    if (major == 0 || major > kMaxMajor || minor > kMaxMinor || micro > kMaxMicro ||
        !is_release_level(level)) {
        return std::nullopt;
    }
    return PythonVersion{major, minor, micro};
}

std::optional<PythonVersion> version_from_string(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    // `python -V` prints "Python 3.12.1"; Py_GetVersion() starts with the number itself.
    if (text.starts_with("Python ")) {
        text.remove_prefix(7);
    }
    return parse_dotted(text, true);
}

std::optional<PythonVersion> version_from_filename(std::string_view path) {
    if (auto slash = path.rfind('/'); slash != std::string_view::npos) {
        path.remove_prefix(slash + 1);
    }
    constexpr std::string_view kStem = "python";
    for (auto at = path.find(kStem); at != std::string_view::npos; at = path.find(kStem, at + 1)) {
        if (auto version = parse_dotted(path.substr(at + kStem.size()), false)) {
            return version;
        }
    }
    return std::nullopt;
}

} // namespace cpuprof::python
