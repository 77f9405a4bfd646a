#pragma once

#include "cpuprof/output/format.hpp"
#include "cpuprof/profile/profile.hpp"

#include <ostream>

// The concrete formats. Only writer.cpp and output_file.cpp call them, through write_unchecked.
namespace cpuprof::output {

void write_collapsed(const profile::Profile& profile, std::ostream& out);
void write_json(const profile::Profile& profile, std::ostream& out);
void write_summary(const profile::Profile& profile, std::ostream& out);
void write_speedscope(const profile::Profile& profile, std::ostream& out);
void write_svg(const profile::Profile& profile, std::ostream& out);

/// Writes `profile` in `format` without checking the stream afterwards.
void write_unchecked(const profile::Profile& profile, Format format, std::ostream& out);

} // namespace cpuprof::output
