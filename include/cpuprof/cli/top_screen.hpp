#pragma once

#include "cpuprof/cli/log_capture.hpp"
#include "cpuprof/output/top_model.hpp"

#include <optional>
#include <string>

// ncurses' terminal handle, kept out of this header so that its macros stay in top_screen.cpp.
struct screen;

namespace cpuprof::cli {

/// The full-screen live view on stdout's terminal (ncursesw): draws the model, reads keys without
/// blocking, follows the terminal's size and gives the terminal back as it found it. While it is
/// up, diagnostics are shown on its second-last line instead of being written under it.
class TopScreen {
  public:
    /// Takes over the terminal. Throws Error when it cannot be driven (e.g. unknown TERM).
    TopScreen();
    ~TopScreen();
    TopScreen(const TopScreen&) = delete;
    TopScreen& operator=(const TopScreen&) = delete;

    /// The next key waiting, if any. Resizes are absorbed: the next draw() fits the new size.
    [[nodiscard]] std::optional<int> next_key();

    /// Redraws everything; only what changed reaches the terminal. `status` is a one-line
    /// message under the header (the result of the last key), empty for none.
    void draw(const output::TopModel& model, const std::string& status);

  private:
    LogCapture logs_; // destroyed after the terminal is given back, so its replay is readable
    struct screen* screen_;
};

} // namespace cpuprof::cli
