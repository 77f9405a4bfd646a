#pragma once

#include "cpuprof/cli/options.hpp"
#include "cpuprof/output/format.hpp"

#include <string>
#include <vector>

namespace cpuprof::cli {

struct PlannedOutput {
    std::string path; ///< "-" for stdout
    output::Format format;
};

/// Decides where each output goes (-o, --format, --output-dir, or a default file name) and checks
/// every path is writable before any sampling starts. Throws UsageError / OutputError.
[[nodiscard]] std::vector<PlannedOutput> plan_outputs(const RecordOptions& options, Pid pid);

} // namespace cpuprof::cli
