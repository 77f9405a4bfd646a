#include "cpuprof/cli/commands.hpp"
#include "cpuprof/cli/session.hpp"
#include "cpuprof/cli/top_screen.hpp"
#include "cpuprof/error.hpp"
#include "cpuprof/output/top_model.hpp"
#include "cpuprof/output/top_text.hpp"
#include "cpuprof/sampling/sampler.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace cpuprof::cli {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Rows of each plain table: enough for the hot spots without flooding a log.
constexpr std::size_t kPlainRows = 25;

sampling::SamplerConfig sampler_config(const TopOptions& o) {
    sampling::SamplerConfig config;
    config.rate_hz = o.rate_hz;
    config.idle = o.idle;
    config.native = o.native;
    // The live view never writes a timeline; keeping one would grow without bound.
    config.timeline = false;
    return config;
}

output::TopClock clock_of(const sampling::Sampler& sampler) {
    const sampling::SamplerProgress& p = sampler.progress();
    return {.ticks = p.ticks.load(std::memory_order_relaxed),
            .lost_ticks = p.lost.load(std::memory_order_relaxed),
            .elapsed_ns = p.elapsed_ns.load(std::memory_order_relaxed),
            .paused = sampler.paused()};
}

std::optional<output::TopSort> sort_key(int key) {
    if (key < '1' || key >= '1' + output::kTopSortCount) {
        return std::nullopt;
    }
    return static_cast<output::TopSort>(key - '1');
}

/// One run of `top`: the model over the sampler's live profile, and what the keys do to it.
class LiveTop {
  public:
    LiveTop(Session& session,
            sampling::Sampler& sampler,
            profile::Profile& profile,
            const TopOptions& options)
        : session_(session)
        , sampler_(sampler)
        , profile_(profile)
        , model_(options.native)
        , idle_(options.idle)
        , delay_(std::chrono::duration_cast<SteadyClock::duration>(
              std::chrono::duration<double>(options.delay_s))) {}

    [[nodiscard]] const output::TopModel& model() const noexcept { return model_; }
    [[nodiscard]] const std::string& status() const noexcept { return status_; }

    /// True when a refresh is due (the delay has passed since the last one).
    bool due() const { return SteadyClock::now() - last_refresh_ >= delay_; }

    void refresh() {
        std::lock_guard lock(sampler_.profile_mutex());
        model_.update(profile_, clock_of(sampler_));
        last_refresh_ = SteadyClock::now();
    }

    void handle_key(int key) {
        if (auto sort = sort_key(key)) {
            model_.set_sort(*sort);
            status_.clear();
            return;
        }
        switch (key) {
        case 'q':
        case 'Q':
        case 3: // Ctrl-C when the terminal delivers it as a key rather than a signal
            session_.request_stop();
            status_ = "quitting";
            return;
        case 'r':
        case 'R': {
            std::lock_guard lock(sampler_.profile_mutex());
            model_.reset(profile_, clock_of(sampler_));
            last_refresh_ = SteadyClock::now();
            status_ = "counts reset";
            return;
        }
        case 't':
        case 'T':
            model_.set_per_thread(!model_.view().per_thread);
            status_ = model_.view().per_thread ? "one row per thread" : "threads merged";
            break;
        case 'l':
        case 'L':
            model_.set_lines(!model_.view().lines);
            status_ = model_.view().lines ? "one row per line" : "one row per function";
            break;
        case 'i':
        case 'I':
            idle_ = !idle_;
            sampler_.set_idle(idle_);
            status_ = idle_ ? "idle threads included from now on" : "idle threads left out";
            return;
        case 'p':
        case 'P':
            sampler_.set_paused(!sampler_.paused());
            status_ = sampler_.paused() ? "sampling paused: p resumes" : "sampling resumed";
            break;
        case 'n':
        case 'N':
            if (!model_.set_native(!model_.view().native)) {
                status_ = "no native frames: start cpuprof top with --native";
                return;
            }
            status_ = model_.view().native ? "native frames shown" : "native frames hidden";
            break;
        default:
            status_ = fmt::format("unknown key: {}", output::top_keys_line());
            return;
        }
        // The view changed what a row is: fold the profile again now rather than at the next
        // refresh.
        refresh();
    }

  private:
    Session& session_;
    sampling::Sampler& sampler_;
    profile::Profile& profile_;
    output::TopModel model_;
    bool idle_;
    SteadyClock::duration delay_;
    SteadyClock::time_point last_refresh_{}; // the first tick refreshes at once
    std::string status_;
};

/// Writes one plain table; false when stdout cannot be written (errno says why).
bool print_plain(const output::TopModel& model) {
    std::string text;
    for (const auto& line : output::top_header_lines(model)) {
        text += line;
        text += '\n';
    }
    const auto columns = output::top_columns(model, 0);
    text += output::top_line(columns, output::top_titles(columns), 0);
    text += '\n';
    std::size_t n = 0;
    for (const output::TopRow* row : model.rows()) {
        if (n++ == kPlainRows) {
            break;
        }
        text += output::top_line(columns, output::top_cells(model, *row, columns), 0);
        text += '\n';
    }
    text += '\n';
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
           std::fflush(stdout) == 0;
}

const char* reason_text(sampling::StopReason reason) {
    return reason == sampling::StopReason::TargetExited ? "target exited" : "stopped";
}

} // namespace

int run_top(const TopOptions& options) {
    Session session(options.target);
    profile::Profile profile;
    profile.target.command_line = session.command_line();
    sampling::Sampler sampler(session.target(), sampler_config(options), profile);
    LiveTop live(session, sampler, profile, options);

    std::optional<TopScreen> screen;
    if (::isatty(STDOUT_FILENO) != 0) {
        try {
            screen.emplace();
        } catch (const Error& e) {
            spdlog::warn("{}; printing plain tables instead", e.what());
        }
    }
    int write_errno = 0;
    // Nothing may escape this callback: it runs while the sampler thread is alive.
    const auto reason = session.run_until_stopped(sampler, [&] {
        if (screen) {
            while (auto key = screen->next_key()) {
                live.handle_key(*key);
            }
            if (live.due()) {
                live.refresh();
            }
            screen->draw(live.model(), live.status());
            return;
        }
        if (write_errno == 0 && live.due()) {
            live.refresh();
            if (!print_plain(live.model())) {
                write_errno = errno != 0 ? errno : EIO;
                session.request_stop();
            }
        }
    });
    screen.reset(); // give the terminal back before anything else is printed
    session.finish(reason);

    // A reader that went away (cpuprof top | head) is a normal way to end a plain run.
    if (write_errno != 0 && write_errno != EPIPE) {
        throw OutputError(fmt::format("cannot write the table to stdout: {} (errno {}); check the "
                                      "file or pipe stdout is sent to",
                                      std::strerror(write_errno), write_errno));
    }
    std::fprintf(stderr, "cpuprof: %s after %.1f s\n", reason_text(reason), profile.duration_s);
    return 0;
}

} // namespace cpuprof::cli
