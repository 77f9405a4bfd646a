#include "pyenv.hpp"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <regex>

namespace cpuprof::test {

namespace {

std::filesystem::path pyenv_root() {
    if (const char* root = std::getenv("PYENV_ROOT"); root != nullptr && *root != '\0') {
        return root;
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".pyenv";
    }
    return "/root/.pyenv";
}

} // namespace

std::string PyenvPython::executable() const {
    return fmt::format("{}/bin/python3.{}", prefix, minor);
}

std::string PyenvPython::libpython() const {
    return fmt::format("{}/lib/libpython3.{}.so.1.0", prefix, minor);
}

std::optional<PyenvPython> find_pyenv_python(int minor) {
    const auto versions = pyenv_root() / "versions";
    std::error_code ec;
    if (!std::filesystem::is_directory(versions, ec)) {
        return std::nullopt;
    }
    // Plain "3.X.Y" only: "3.13.0t" (free-threaded) and "3.12-dev" have other layouts.
    const std::regex pattern(fmt::format(R"(3\.{}\.(\d+))", minor));
    std::optional<PyenvPython> best;
    int best_micro = -1;
    for (const auto& entry : std::filesystem::directory_iterator(versions, ec)) {
        const auto name = entry.path().filename().string();
        std::smatch match;
        if (!std::regex_match(name, match, pattern)) {
            continue;
        }
        PyenvPython python{minor, name, entry.path().string()};
        const int micro = std::stoi(match[1].str());
        if (micro > best_micro && std::filesystem::exists(python.executable(), ec) &&
            std::filesystem::exists(python.libpython(), ec)) {
            best = python;
            best_micro = micro;
        }
    }
    return best;
}

} // namespace cpuprof::test
