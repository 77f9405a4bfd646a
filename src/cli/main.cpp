// cpuprof's entry point: CLI11 subcommands -> option structs -> run_*(); errors -> exit status and
// one line on stderr.
#include "cpuprof/cli/commands.hpp"
#include "cpuprof/cli/parse.hpp"
#include "cpuprof/error.hpp"
#include "cpuprof/version.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace {

using namespace cpuprof;
using namespace cpuprof::cli;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct RawTarget {
    std::string pid;
    std::vector<std::string> command;
};

void add_target(CLI::App& sub, RawTarget& raw, bool allow_command) {
    sub.add_option("-p,--pid", raw.pid, "Process id of the Python program (decimal or 0x hex)");
    if (allow_command) {
        sub.add_option("command", raw.command, "Launch and profile: -- python3 script.py ARGS...");
    }
}

TargetSpec resolve_target(const RawTarget& raw, const char* command) {
    TargetSpec spec;
    if (!raw.pid.empty() && !raw.command.empty()) {
        throw UsageError(fmt::format("{}: give either --pid PID or -- COMMAND, not both", command));
    }
    if (!raw.pid.empty()) {
        spec.pid = parse_pid(raw.pid);
    } else if (!raw.command.empty()) {
        spec.command = raw.command;
    } else {
        throw UsageError(fmt::format("{}: no target: give --pid PID or a command after --, e.g. "
                                     "cpuprof {} -- python3 app.py",
                                     command, command));
    }
    return spec;
}

void set_verbosity(int verbose) {
    auto logger = spdlog::stderr_color_mt("cpuprof");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("cpuprof: %l: %v");
    spdlog::set_level(verbose >= 2   ? spdlog::level::debug
                      : verbose == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
}

int run(int argc, char** argv) {
    CLI::App app{"cpuprof: a sampling profiler for running CPython processes", "cpuprof"};
    app.require_subcommand(0, 1);
    app.set_version_flag("-V,--version", fmt::format("cpuprof {}", kVersion));
    int verbose = 0;
    app.add_flag("-v,--verbose", verbose, "More diagnostics on stderr (repeat for more)");

    RawTarget record_target;
    std::string rate;
    std::string duration;
    RecordOptions record;
    auto* rec = app.add_subcommand("record", "Sample a process and write a profile");
    add_target(*rec, record_target, true);
    rec->add_option("-r,--rate", rate, "Samples per second (default 1000; 200 with --native)");
    rec->add_option("-d,--duration", duration, "Seconds to record (default: until Ctrl-C or exit)");
    rec->add_option("-o,--output", record.output, "Output file, or - for stdout");
    rec->add_option("-f,--format", record.format,
                    "collapsed, json, summary, speedscope or svg (default: from -o's extension)");
    rec->add_option("--output-dir", record.output_dir, "Write every format into this directory");
    rec->add_flag("-n,--native", record.native, "Include native C/C++ frames");
    rec->add_flag("--native-all", record.native_all, "With --native: keep interpreter frames");
    rec->add_flag("-i,--idle", record.idle, "Include idle (off-CPU) threads");
    rec->add_flag("-g,--gil", record.gil, "Only the thread holding the GIL");
    rec->add_flag("-t,--threads", record.threads, "Split stacks per thread");
    rec->add_flag("-F,--function", record.function, "One box per function (no line numbers)");
    rec->add_flag("--blocking", record.blocking, "Pause the target's threads for each sample");
    bool nonblocking = false;
    rec->add_flag("--nonblocking", nonblocking, "Never pause the target (the default)");
    rec->add_flag("-s,--subprocesses", record.subprocesses, "Also profile child processes");
    rec->add_flag("-q,--quiet", record.quiet, "No status line on stderr");
    rec->add_flag("--paused", record.paused,
                  "Start paused: kill -USR2 starts sampling, kill -USR1 pauses it again");

    RawTarget top_target;
    std::string top_rate;
    TopOptions top;
    auto* topc = app.add_subcommand("top", "Live view of the functions using the most time");
    add_target(*topc, top_target, true);
    topc->add_option("-r,--rate", top_rate, "Samples per second (default 1000; 200 with --native)");
    topc->add_flag("-n,--native", top.native, "Include native C/C++ frames");
    topc->add_flag("-i,--idle", top.idle, "Include idle (off-CPU) threads");
    topc->add_option("--delay", top.delay_s, "Seconds between refreshes (default 1)");

    RawTarget dump_target;
    DumpOptions dump;
    auto* dumpc = app.add_subcommand("dump", "Print every thread's stack now");
    add_target(*dumpc, dump_target, false);
    dumpc->add_flag("-j,--json", dump.json, "Print JSON instead of text");
    dumpc->add_flag("-n,--native", dump.native, "Include native C/C++ frames");
    dumpc->add_flag("--native-all", dump.native_all, "With --native: keep interpreter frames");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "cpuprof: error: %s (see cpuprof --help)\n", e.what());
        return kExitUsage;
    }
    set_verbosity(verbose);

    if (rec->parsed()) {
        if (nonblocking && record.blocking) {
            throw UsageError(
                "record: --blocking and --nonblocking contradict each other: pick one");
        }
        record.target = resolve_target(record_target, "record");
        if (record.native && !record.blocking && nonblocking) {
            throw UsageError("record: --native pauses each sampled thread to unwind it and cannot "
                             "be combined with --nonblocking");
        }
        record.rate_hz = !rate.empty()                          ? parse_rate(rate)
                         : (record.native || record.native_all) ? 200.0
                                                                : 1000.0;
        if (!duration.empty()) {
            record.duration_s = parse_duration(duration);
        }
        return run_record(record);
    }
    if (topc->parsed()) {
        top.target = resolve_target(top_target, "top");
        top.rate_hz = !top_rate.empty() ? parse_rate(top_rate) : top.native ? 200.0 : 1000.0;
        if (!(top.delay_s > 0)) {
            throw UsageError("invalid --delay: give seconds above 0, e.g. --delay 1");
        }
        return run_top(top);
    }
    if (dumpc->parsed()) {
        dump.target = resolve_target(dump_target, "dump");
        return run_dump(dump);
    }
    std::fputs(app.help().c_str(), stdout);
    return kExitUsage;
}

} // namespace

int main(int argc, char** argv) {
    // Writing to a closed pipe (cpuprof ... -o - | head) must end with an error, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    // SIGUSR1 / SIGUSR2 pause and resume a recording. Sent before sampling starts (while cpuprof
    // attaches) they wait, blocked, for the session to take them, instead of killing cpuprof.
    sigset_t pause_signals;
    sigemptyset(&pause_signals);
    sigaddset(&pause_signals, SIGUSR1);
    sigaddset(&pause_signals, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &pause_signals, nullptr);
    // A few files stay open per target thread (its stat and schedstat): a service with
    // thousands of threads needs more than the usual soft limit of 1024, which the hard limit
    // allows without privileges.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "cpuprof: error: %s\n", e.what());
        return kExitUsage;
    } catch (const Error& e) {
        std::fprintf(stderr, "cpuprof: error: %s\n", e.what());
        return kExitFailed;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cpuprof: internal error: %s\n", e.what());
        return kExitFailed;
    }
}
