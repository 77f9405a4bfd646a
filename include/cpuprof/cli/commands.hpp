#pragma once

#include "cpuprof/cli/options.hpp"

namespace cpuprof::cli {

/// Each command returns the process exit status; errors are thrown as cpuprof::Error.
int run_dump(const DumpOptions& options);
int run_record(const RecordOptions& options);
int run_top(const TopOptions& options);

} // namespace cpuprof::cli
