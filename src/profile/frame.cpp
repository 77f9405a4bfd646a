#include "cpuprof/profile/frame.hpp"

#include <fmt/format.h>

namespace cpuprof::profile {

namespace {
// ';' separates frames and a newline ends a record in collapsed stacks; neither may appear.
std::string sanitized(std::string text) {
    for (char& c : text) {
        if (c == ';') {
            c = ':';
        } else if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return text;
}
} // namespace

const char* kind_name(FrameKind kind) {
    switch (kind) {
    case FrameKind::Python:
        return "python";
    case FrameKind::Native:
        return "native";
    case FrameKind::Thread:
        return "thread";
    case FrameKind::Marker:
        return "marker";
    case FrameKind::Process:
        return "process";
    }
    return "unknown";
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Frame::label() const {
    switch (kind) {
    case FrameKind::Python:
        if (line > 0) {
            return sanitized(fmt::format("{} ({}:{})", name, file, line));
        }
        return sanitized(fmt::format("{} ({})", name, file));
    case FrameKind::Native:
        // An address without a symbol is already named after its library ("libz.so.1+0x1f2").
        if (file.empty() || name.starts_with(basename_of(file) + "+0x")) {
            return sanitized(name);
        }
        return sanitized(fmt::format("{} ({})", name, basename_of(file)));
    case FrameKind::Thread:
    case FrameKind::Marker:
    case FrameKind::Process:
        break;
    }
    return sanitized(name);
}

} // namespace cpuprof::profile
