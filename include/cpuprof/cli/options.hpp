#pragma once

#include "cpuprof/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cpuprof::cli {

/// Which process to profile: an existing one, or a command cpuprof launches.
struct TargetSpec {
    Pid pid = 0;
    std::vector<std::string> command; ///< non-empty in launch mode
};

struct DumpOptions {
    TargetSpec target;
    bool json = false;
    bool native = false;
    bool native_all = false;
};

struct RecordOptions {
    TargetSpec target;
    double rate_hz = 1000;
    std::optional<double> duration_s;
    std::string output;                ///< -o PATH or "-"
    std::optional<std::string> format; ///< --format
    std::string output_dir;            ///< --output-dir: every format
    bool native = false;
    bool native_all = false;
    bool idle = false;
    bool gil = false;
    bool threads = false;
    bool function = false;
    bool blocking = false;
    bool subprocesses = false;
    bool quiet = false;
    bool paused = false; ///< --paused: no sample until SIGUSR2
};

struct TopOptions {
    TargetSpec target;
    double rate_hz = 1000;
    bool native = false;
    bool idle = false;
    double delay_s = 1.0;
};

} // namespace cpuprof::cli
