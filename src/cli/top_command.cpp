#include "cpuprof/cli/commands.hpp"
#include "cpuprof/error.hpp"

namespace cpuprof::cli {

int run_top(const TopOptions&) {
    throw UsageError("top is being written");
}

} // namespace cpuprof::cli
