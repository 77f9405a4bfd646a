#include "cpuprof/output/json_schema.hpp"
#include "cpuprof/version.hpp"
#include "output/writers.hpp"

#include <nlohmann/json.hpp>

namespace cpuprof::output {

namespace {

using Json = nlohmann::ordered_json;

Json stats_json(const profile::SamplingStats& s) {
    return Json{{"ticks", s.ticks},
                {"expected_ticks", s.expected_ticks},
                {"late_ticks", s.late_ticks},
                {"lost_ticks", s.lost_ticks},
                {"thread_samples", s.thread_samples},
                {"idle_skipped", s.idle_skipped},
                {"gil_samples", s.gil_samples},
                {"failed", s.failed},
                {"torn", s.torn},
                {"unmerged", s.unmerged},
                {"sampler_cpu_ns", s.sampler_cpu_ns}};
}

Json frames_json(const profile::FrameTable& frames) {
    Json list = Json::array();
    for (profile::FrameId id = 0; id < frames.size(); ++id) {
        const profile::Frame& f = frames[id];
        list.push_back(Json{{"id", id},
                            {"name", f.name},
                            {"file", f.file},
                            {"line", f.line},
                            {"kind", profile::kind_name(f.kind)}});
    }
    return list;
}

Json stacks_json(const profile::Profile& profile, bool has_instructions) {
    Json list = Json::array();
    for (profile::StackId id = 0; id < profile.stacks.size(); ++id) {
        const auto frames = profile.stacks.frames(id);
        const profile::StackMetrics& m = profile.stacks.metrics(id);
        list.push_back(
            Json{{"id", id},
                 {"frames", Json(std::vector<profile::FrameId>(frames.begin(), frames.end()))},
                 {"thread", profile.stacks.thread(id)},
                 {"samples", m.samples},
                 {"instructions", has_instructions ? Json(m.instructions) : Json()},
                 {"rss_delta_bytes", m.rss_delta},
                 {"cpu_ns", m.cpu_ns}});
    }
    return list;
}

Json threads_json(const profile::Profile& profile) {
    Json list = Json::array();
    for (const auto& [tid, info] : profile.threads) {
        list.push_back(Json{{"tid", tid}, {"name", info.name}, {"samples", info.samples}});
    }
    return list;
}

} // namespace

void write_json(const profile::Profile& profile, std::ostream& out) {
    const bool has_instructions = profile.counter == profile::CounterKind::HardwareInstructions;
    const profile::StackMetrics totals = profile.stacks.totals();
    Json doc;
    doc["schema_version"] = kJsonSchemaVersion;
    doc["cpuprof"] = kVersion;
    doc["target"] = Json{{"pid", profile.target.pid},
                         {"python_version", profile.target.python_version},
                         {"executable", profile.target.executable},
                         {"command_line", profile.target.command_line}};
    doc["rate_hz"] = profile.rate_hz;
    doc["duration_s"] = profile.duration_s;
    doc["start_unix_ns"] = profile.start_unix_ns;
    doc["options"] = Json{{"native", profile.native},
                          {"idle", profile.idle_included},
                          {"gil_only", profile.gil_only},
                          {"per_thread", profile.per_thread},
                          {"function_only", profile.function_only}};
    doc["counters"] = Json{{"instructions", has_instructions ? "hardware" : "unavailable"},
                           {"instructions_note", profile.counter_note},
                           {"cpu_time", "task-clock"}};
    doc["stats"] = stats_json(profile.stats);
    doc["totals"] = Json{{"samples", totals.samples},
                         {"instructions", has_instructions ? Json(totals.instructions) : Json()},
                         {"rss_delta_bytes", totals.rss_delta},
                         {"cpu_ns", totals.cpu_ns}};
    doc["threads"] = threads_json(profile);
    doc["frames"] = frames_json(profile.frames);
    doc["stacks"] = stacks_json(profile, has_instructions);
    if (!profile.timeline.empty()) {
        Json timeline = Json::array();
        for (const profile::TimelineEntry& entry : profile.timeline) {
            timeline.push_back(Json::array({entry.tick, entry.stack}));
        }
        doc["timeline"] = std::move(timeline);
    }
    // Names come from the target's memory: replace invalid UTF-8 rather than fail the output.
    out << doc.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

} // namespace cpuprof::output
