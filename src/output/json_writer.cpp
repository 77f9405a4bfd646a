#include "cpuprof/output/json_schema.hpp"
#include "cpuprof/version.hpp"
#include "output/writers.hpp"

#include <fmt/format.h>
#include <iterator>
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
                {"sampler_cpu_ns", s.sampler_cpu_ns},
                {"paused_ns", s.paused_ns},
                {"colocated_ticks", s.colocated_ticks},
                {"sampler_moves", s.sampler_moves},
                {"switch_rings_closed", s.switch_rings_closed}};
}

// Names come from the target's memory: replace invalid UTF-8 rather than fail the output.
void dump(const Json& value, std::ostream& out) {
    out << value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The frames, stacks and timeline arrays are written element by element: a long recording has
// hundreds of thousands of timeline entries, and a document tree of them would take many times
// the memory of the profile itself.
void write_frames(const profile::FrameTable& frames, std::ostream& out) {
    out << ",\"frames\":[";
    for (profile::FrameId id = 0; id < frames.size(); ++id) {
        const profile::Frame& f = frames[id];
        out << (id == 0 ? "" : ",");
        dump(Json{{"id", id},
                  {"name", f.name},
                  {"file", f.file},
                  {"line", f.line},
                  {"kind", profile::kind_name(f.kind)}},
             out);
    }
    out << ']';
}

void write_stacks(const profile::Profile& profile, bool has_instructions, std::ostream& out) {
    out << ",\"stacks\":[";
    for (profile::StackId id = 0; id < profile.stacks.size(); ++id) {
        const auto frames = profile.stacks.frames(id);
        const profile::StackMetrics& m = profile.stacks.metrics(id);
        out << (id == 0 ? "" : ",");
        dump(Json{{"id", id},
                  {"frames", Json(std::vector<profile::FrameId>(frames.begin(), frames.end()))},
                  {"thread", profile.stacks.thread(id)},
                  {"samples", m.samples},
                  {"instructions", has_instructions ? Json(m.instructions) : Json()},
                  {"rss_delta_bytes", m.rss_delta},
                  {"cpu_ns", m.cpu_ns}},
             out);
    }
    out << ']';
}

void write_timeline(const std::vector<profile::TimelineEntry>& timeline, std::ostream& out) {
    out << ",\"timeline\":[";
    fmt::memory_buffer buffer;
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        fmt::format_to(std::back_inserter(buffer), "{}[{},{}]", i == 0 ? "" : ",", timeline[i].tick,
                       timeline[i].stack);
        if (buffer.size() > 64 * 1024) {
            out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            buffer.clear();
        }
    }
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    out << ']';
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
                           {"cpu_time", profile.cpu_time_source}};
    doc["sampler_priority"] = profile.sampler_priority;
    doc["stats"] = stats_json(profile.stats);
    doc["totals"] = Json{{"samples", totals.samples},
                         {"instructions", has_instructions ? Json(totals.instructions) : Json()},
                         {"rss_delta_bytes", totals.rss_delta},
                         {"cpu_ns", totals.cpu_ns}};
    doc["threads"] = threads_json(profile);
    // The head of the document, its closing brace left off; the big arrays follow it.
    std::string head = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    head.pop_back();
    out << head;
    write_frames(profile.frames, out);
    write_stacks(profile, has_instructions, out);
    if (!profile.timeline.empty()) {
        write_timeline(profile.timeline, out);
    }
    out << "}\n";
}

} // namespace cpuprof::output
