#include "live_fixture.hpp"

#include "pyenv.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace cpuprof::test {

ScratchDir::ScratchDir(const std::string& prefix) {
    std::string pattern = std::filesystem::temp_directory_path() / (prefix + "XXXXXX");
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

bool wait_for_file(const std::filesystem::path& file, process::ChildProcess& child) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            return true;
        }
        if (child.poll()) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

std::optional<process::ChildProcess> spawn_script(const std::string& executable,
                                                  const std::string& script,
                                                  const std::filesystem::path& ready) {
    auto child = process::ChildProcess::spawn(
        {executable, std::string(CPUPROF_PYTHON_TEST_DATA) + "/" + script, ready.string()});
    if (!wait_for_file(ready, child)) {
        return std::nullopt;
    }
    return child;
}

std::vector<std::string>
for_each_live_python(const std::function<void(const std::string&)>& check) {
    std::vector<std::string> covered;
    for (int minor = 8; minor <= 13; ++minor) {
        const auto python = find_pyenv_python(minor);
        if (!python) {
            WARN("Python 3." << minor << " is not installed under pyenv: skipping its live test");
            continue;
        }
        INFO(python->executable());
        check(python->executable());
        covered.push_back(python->version);
    }
    const std::string distribution = "/usr/bin/python3.11";
    std::error_code ec;
    if (!std::filesystem::exists(distribution, ec)) {
        WARN(distribution << " is not installed: skipping its live test");
        return covered;
    }
    INFO(distribution);
    check(distribution);
    covered.push_back(distribution);
    return covered;
}

} // namespace cpuprof::test
