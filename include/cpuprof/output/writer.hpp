#pragma once

#include "cpuprof/output/format.hpp"
#include "cpuprof/profile/profile.hpp"

#include <ostream>

namespace cpuprof::output {

/// Writes a whole profile in one format. Throws OutputError when the stream fails.
void write_profile(const profile::Profile& profile, Format format, std::ostream& out);

} // namespace cpuprof::output
