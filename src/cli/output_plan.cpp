#include "cpuprof/cli/output_plan.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/output/output_file.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <sys/stat.h>

namespace cpuprof::cli {

namespace {

output::Format parse_format_option(const std::string& name) {
    auto format = output::parse_format(name);
    if (!format) {
        throw UsageError(fmt::format(
            "unknown --format '{}': use collapsed, json, summary, speedscope or svg", name));
    }
    return *format;
}

std::string timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
    return buffer;
}

} // namespace

std::vector<PlannedOutput> plan_outputs(const RecordOptions& options, Pid pid) {
    std::vector<PlannedOutput> plan;
    if (!options.output_dir.empty()) {
        const auto& dir = options.output_dir;
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            throw OutputError(fmt::format("cannot create --output-dir {}: {} (create its parent "
                                          "directory or choose another place)",
                                          dir, std::strerror(errno)));
        }
        for (auto format : output::all_formats()) {
            plan.push_back(
                {fmt::format("{}/profile{}", dir, output::extension_for(format)), format});
        }
        if (!options.output.empty()) {
            auto format = options.format ? parse_format_option(*options.format)
                                         : output::format_from_path(options.output);
            plan.push_back({options.output, format.value_or(output::Format::Svg)});
        }
    } else if (options.output == "-") {
        plan.push_back({"-", options.format ? parse_format_option(*options.format)
                                            : output::Format::Collapsed});
    } else if (!options.output.empty()) {
        std::optional<output::Format> format;
        if (options.format) {
            format = parse_format_option(*options.format);
        } else {
            format = output::format_from_path(options.output);
        }
        if (!format) {
            throw UsageError(
                fmt::format("cannot tell the format of '{}' from its extension: add --format "
                            "(collapsed, json, summary, speedscope or svg) or use .svg, .json, "
                            ".speedscope.json, .txt, .collapsed",
                            options.output));
        }
        plan.push_back({options.output, *format});
    } else {
        const auto format =
            options.format ? parse_format_option(*options.format) : output::Format::Svg;
        const std::string who = pid > 0 ? std::to_string(pid) : "run";
        plan.push_back(
            {fmt::format("cpuprof-{}-{}{}", who, timestamp(), output::extension_for(format)),
             format});
    }
    for (const auto& out : plan) {
        output::check_output_path(out.path);
    }
    return plan;
}

} // namespace cpuprof::cli
