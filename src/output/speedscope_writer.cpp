#include "cpuprof/output/merged_stacks.hpp"
#include "cpuprof/version.hpp"
#include "output/writers.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace cpuprof::output {

namespace {

using Json = nlohmann::ordered_json;

/// One thread's samples in the order they are emitted.
struct ThreadSamples {
    std::vector<profile::StackId> stacks;
    std::vector<double> weights;
};

Json frame_json(const profile::Frame& frame) {
    Json f{{"name", frame.name}};
    if (!frame.file.empty() && frame.kind != profile::FrameKind::Thread) {
        f["file"] = frame.file;
    }
    if (frame.line > 0) {
        f["line"] = frame.line;
    }
    return f;
}

// With a timeline every tick is a sample, so speedscope's time-ordered view is the real order;
// without one, each stack is one sample weighing all of its samples.
std::map<Tid, ThreadSamples> samples_by_thread(const profile::Profile& profile, double tick) {
    std::map<Tid, ThreadSamples> threads;
    if (!profile.timeline.empty()) {
        for (const profile::TimelineEntry& entry : profile.timeline) {
            if (entry.stack >= profile.stacks.size()) {
                continue;
            }
            ThreadSamples& t = threads[profile.stacks.thread(entry.stack)];
            t.stacks.push_back(entry.stack);
            t.weights.push_back(tick);
        }
        return threads;
    }
    for (profile::StackId id = 0; id < profile.stacks.size(); ++id) {
        const std::uint64_t samples = profile.stacks.metrics(id).samples;
        if (samples == 0) {
            continue;
        }
        ThreadSamples& t = threads[profile.stacks.thread(id)];
        t.stacks.push_back(id);
        t.weights.push_back(static_cast<double>(samples) * tick);
    }
    return threads;
}

std::string profile_name(const profile::Profile& profile, Tid tid) {
    const std::string name = thread_name(profile, tid);
    return name.empty() ? fmt::format("thread {}", tid) : fmt::format("{} (tid {})", name, tid);
}

std::string dump(const Json& value) {
    // Names come from the target's memory: replace invalid UTF-8 rather than fail the output.
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// The document without its last two characters ("}" or "]}"), to be continued in place.
std::string open_ended(const Json& value, std::size_t drop) {
    std::string text = dump(value);
    text.resize(text.size() - drop);
    return text;
}

// One sampled profile. Its samples (every stack of every tick, with a timeline) are written as
// they are formatted: built as a document tree they would take hundreds of MB for a long
// recording.
void write_thread_profile(const profile::Profile& profile,
                          Tid tid,
                          const ThreadSamples& thread,
                          bool timed,
                          std::ostream& out) {
    double end = 0;
    for (double w : thread.weights) {
        end += w;
    }
    out << open_ended(Json{{"type", "sampled"},
                           {"name", profile_name(profile, tid)},
                           {"unit", timed ? "milliseconds" : "none"},
                           {"startValue", 0},
                           {"endValue", end}},
                      1);
    fmt::memory_buffer buffer;
    auto flush = [&](bool always) {
        if (always || buffer.size() > 64 * 1024) {
            out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            buffer.clear();
        }
    };
    fmt::format_to(std::back_inserter(buffer), ",\"samples\":[");
    for (std::size_t i = 0; i < thread.stacks.size(); ++i) {
        fmt::format_to(std::back_inserter(buffer), "{}[{}]", i == 0 ? "" : ",",
                       fmt::join(profile.stacks.frames(thread.stacks[i]), ","));
        flush(false);
    }
    fmt::format_to(std::back_inserter(buffer), "],\"weights\":[");
    for (std::size_t i = 0; i < thread.weights.size(); ++i) {
        fmt::format_to(std::back_inserter(buffer), "{}{}", i == 0 ? "" : ",", thread.weights[i]);
        flush(false);
    }
    fmt::format_to(std::back_inserter(buffer), "]}}");
    flush(true);
}

} // namespace

void write_speedscope(const profile::Profile& profile, std::ostream& out) {
    // Without a rate the samples cannot be turned into time: weigh them as plain counts.
    const bool timed = profile.rate_hz > 0;
    const double tick = timed ? 1000.0 / profile.rate_hz : 1.0;

    Json frames = Json::array();
    for (profile::FrameId id = 0; id < profile.frames.size(); ++id) {
        frames.push_back(frame_json(profile.frames[id]));
    }
    const Json head{{"$schema", "https://www.speedscope.app/file-format-schema.json"},
                    {"name", fmt::format("cpuprof: pid {} (Python {})", profile.target.pid,
                                         profile.target.python_version)},
                    {"activeProfileIndex", 0},
                    {"exporter", fmt::format("cpuprof@{}", kVersion)},
                    {"shared", Json{{"frames", std::move(frames)}}},
                    {"profiles", Json::array()}};
    out << open_ended(head, 2); // the empty profiles array, without its "]}"
    bool first = true;
    for (const auto& [tid, thread] : samples_by_thread(profile, tick)) {
        out << (first ? "" : ",");
        first = false;
        write_thread_profile(profile, tid, thread, timed, out);
    }
    out << "]}\n";
}

} // namespace cpuprof::output
