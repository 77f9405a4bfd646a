#include "cpuprof/output/writer.hpp"

#include "cpuprof/error.hpp"
#include "output/writers.hpp"

#include <fmt/format.h>

namespace cpuprof::output {

void write_unchecked(const profile::Profile& profile, Format format, std::ostream& out) {
    switch (format) {
    case Format::Collapsed:
        write_collapsed(profile, out);
        return;
    case Format::Json:
        write_json(profile, out);
        return;
    case Format::Summary:
        write_summary(profile, out);
        return;
    case Format::Speedscope:
        write_speedscope(profile, out);
        return;
    case Format::Svg:
        write_svg(profile, out);
        return;
    }
}

void write_profile(const profile::Profile& profile, Format format, std::ostream& out) {
    write_unchecked(profile, format, out);
    out.flush();
    if (!out) {
        throw OutputError(fmt::format("could not write the {} output: the stream failed (disk full "
                                      "or the reading end closed); free space or keep the reader "
                                      "open",
                                      format_name(format)));
    }
}

} // namespace cpuprof::output
