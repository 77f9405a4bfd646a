#pragma once

#include "cpuprof/process/child_process.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cpuprof::test {

/// A directory under $TMPDIR, removed with its files when the object goes away.
class ScratchDir {
  public:
    explicit ScratchDir(const std::string& prefix);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

/// Waits up to 20 s for a fixture to create `file`; false when it exited first or never did.
bool wait_for_file(const std::filesystem::path& file, process::ChildProcess& child);

/// Starts the test script tests/data/python/`script` under `executable`, with `ready` as its
/// argument, and waits (as wait_for_file) until the script has created that file; nullopt when
/// it never did.
std::optional<process::ChildProcess> spawn_script(const std::string& executable,
                                                  const std::string& script,
                                                  const std::filesystem::path& ready);

/// Runs `check` with each live interpreter there is: pyenv's 3.8 .. 3.13 and the distribution's
/// /usr/bin/python3.11, warning about the ones not installed. Returns the ones checked.
std::vector<std::string> for_each_live_python(const std::function<void(const std::string&)>& check);

} // namespace cpuprof::test
