#include "cpuprof/cli/commands.hpp"
#include "cpuprof/cli/output_plan.hpp"
#include "cpuprof/cli/session.hpp"
#include "cpuprof/error.hpp"
#include "cpuprof/output/output_file.hpp"
#include "cpuprof/sampling/sampler.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace cpuprof::cli {

namespace {

sampling::SamplerConfig sampler_config(const RecordOptions& o) {
    sampling::SamplerConfig config;
    config.rate_hz = o.rate_hz;
    config.duration_s = o.duration_s;
    config.idle = o.idle;
    config.gil_only = o.gil;
    config.per_thread = o.threads;
    config.function_only = o.function;
    config.blocking = o.blocking;
    config.native = o.native || o.native_all;
    config.native_all = o.native_all;
    config.subprocesses = o.subprocesses;
    config.start_paused = o.paused;
    return config;
}

void print_status(const sampling::Sampler& sampler, double rate) {
    const auto& p = sampler.progress();
    const double elapsed = static_cast<double>(p.elapsed_ns.load()) / 1e9;
    const auto ticks = p.ticks.load();
    std::fprintf(stderr,
                 "\r\033[Kcpuprof: %.1f s, %llu samples, %.0f Hz of %.0f, %llu errors, %llu lost%s",
                 elapsed, static_cast<unsigned long long>(p.thread_samples.load()),
                 elapsed > 0 ? static_cast<double>(ticks) / elapsed : 0.0, rate,
                 static_cast<unsigned long long>(p.errors.load()),
                 static_cast<unsigned long long>(p.lost.load()),
                 sampler.paused() ? " (paused: kill -USR2 resumes)" : "");
}

const char* reason_text(sampling::StopReason reason) {
    switch (reason) {
    case sampling::StopReason::Duration:
        return "duration reached";
    case sampling::StopReason::Stopped:
        return "stopped";
    case sampling::StopReason::TargetExited:
        return "target exited";
    }
    return "";
}

} // namespace

int run_record(const RecordOptions& options) {
    const auto plan = plan_outputs(options, options.target.pid);
    Session session(options.target);
    profile::Profile profile;
    profile.target.command_line = session.command_line();
    sampling::Sampler sampler(session.target(), sampler_config(options), profile);

    const bool status_line = !options.quiet && ::isatty(STDERR_FILENO) != 0;
    const auto reason = session.run_until_stopped(sampler, [&] {
        if (status_line) {
            print_status(sampler, options.rate_hz);
        }
    });
    if (status_line) {
        std::fputs("\r\033[K", stderr);
    }
    session.finish(reason);

    for (const auto& out : plan) {
        output::write_output(out.path, out.format, profile);
    }
    const auto& s = profile.stats;
    std::fprintf(
        stderr,
        "cpuprof: %s after %.2f s: %llu samples from %zu threads, %zu unique "
        "stacks, %llu failed, %llu torn, %llu ticks lost%s\n",
        reason_text(reason), profile.duration_s, static_cast<unsigned long long>(s.thread_samples),
        profile.threads.size(), profile.stacks.size(), static_cast<unsigned long long>(s.failed),
        static_cast<unsigned long long>(s.torn), static_cast<unsigned long long>(s.lost_ticks),
        s.paused_ns > 0
            ? fmt::format(", paused {:.2f} s", static_cast<double>(s.paused_ns) / 1e9).c_str()
            : "");
    for (const auto& out : plan) {
        if (out.path != "-") {
            std::fprintf(stderr, "cpuprof: wrote %s (%s)\n", out.path.c_str(),
                         std::string(output::format_name(out.format)).c_str());
        }
    }
    return 0;
}

} // namespace cpuprof::cli
