#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace cpuprof::cli {

/// While alive, diagnostics go to memory instead of stderr: a full-screen view owns the terminal,
/// and a line written under it would scroll it. The screen shows the latest message; every kept
/// message is logged to stderr again once the terminal has been given back.
class LogCapture {
  public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    /// The newest message as "level: text", empty when there is none.
    [[nodiscard]] std::string latest() const;

  private:
    class Sink;
    std::shared_ptr<Sink> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

} // namespace cpuprof::cli
