#include "cpuprof/output/json_schema.hpp"
#include "cpuprof/version.hpp"
#include "sample_profile.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

using namespace cpuprof;
using namespace cpuprof::test;
// Ordered, so that comparisons also check the key order the writer promises.
using json = nlohmann::ordered_json;

namespace {

std::vector<std::string> keys(const json& object) {
    std::vector<std::string> out;
    for (const auto& [key, value] : object.items()) {
        out.push_back(key);
    }
    return out;
}

} // namespace

TEST_CASE("json output carries the whole profile under a versioned schema", "[output]") {
    const json doc = json::parse(written(sample_profile(), output::Format::Json));

    CHECK(keys(doc) == std::vector<std::string>{"schema_version", "cpuprof", "target", "rate_hz",
                                                "duration_s", "start_unix_ns", "options",
                                                "counters", "sampler_priority", "stats", "totals",
                                                "threads", "frames", "stacks"});
    CHECK(doc["schema_version"] == output::kJsonSchemaVersion);
    CHECK(doc["cpuprof"] == kVersion);
    CHECK(doc["target"] == json{{"pid", 4242},
                                {"python_version", "3.12.1"},
                                {"executable", "/usr/bin/python3.12"},
                                {"command_line", {"python3", "app.py", "--fast"}}});
    CHECK(doc["rate_hz"] == 1000.0);
    CHECK(doc["duration_s"] == 2.0);
    CHECK(doc["start_unix_ns"] == 1'700'000'000'000'000'000ULL);
    CHECK(doc["options"] == json{{"native", true},
                                 {"idle", false},
                                 {"gil_only", false},
                                 {"per_thread", false},
                                 {"function_only", false}});
    CHECK(doc["counters"]["instructions"] == "unavailable");
    CHECK(doc["counters"]["instructions_note"].get<std::string>().find("ENOENT") !=
          std::string::npos);
    CHECK(doc["counters"]["cpu_time"] == "schedstat");
    CHECK(doc["sampler_priority"] == "short-slice");
    CHECK(doc["stats"] == json{{"ticks", 1990},
                               {"expected_ticks", 2000},
                               {"late_ticks", 3},
                               {"lost_ticks", 1},
                               {"thread_samples", 100},
                               {"idle_skipped", 11},
                               {"gil_samples", 40},
                               {"failed", 2},
                               {"torn", 1},
                               {"unmerged", 4},
                               {"sampler_cpu_ns", 12'345'678},
                               {"paused_ns", 250'000'000},
                               {"colocated_ticks", 7},
                               {"sampler_moves", 5},
                               {"switch_rings_closed", 3}});
    CHECK(doc["totals"] == json{{"samples", 100},
                                {"instructions", nullptr},
                                {"rss_delta_bytes", -256 * 1024 + 4096},
                                {"cpu_ns", 100'000'000}});
    CHECK(doc["threads"] == json::array({{{"tid", 100}, {"name", "MainThread"}, {"samples", 65}},
                                         {{"tid", 101}, {"name", "worker"}, {"samples", 35}}}));

    const json& frames = doc["frames"];
    REQUIRE(frames.size() == 7);
    CHECK(frames[1] ==
          json{{"id", 1}, {"name", "함수"}, {"file", "app.py"}, {"line", 20}, {"kind", "python"}});
    CHECK(frames[3]["name"] == "render<&>\"'");
    CHECK(frames[4]["name"] == "a;b"); // the raw name: only labels replace ';'
    CHECK(frames[5]["kind"] == "native");
    CHECK(frames[5]["file"] == "/usr/lib/x86_64-linux-gnu/libz.so.1");

    const json& stacks = doc["stacks"];
    REQUIRE(stacks.size() == 6);
    std::uint64_t samples = 0;
    std::set<int> threads;
    for (std::size_t i = 0; i < stacks.size(); ++i) {
        const json& s = stacks[i];
        CHECK(keys(s) == std::vector<std::string>{"id", "frames", "thread", "samples",
                                                  "instructions", "rss_delta_bytes", "cpu_ns"});
        CHECK(s["id"] == i);
        CHECK(s["instructions"].is_null());
        for (const json& f : s["frames"]) {
            CHECK(f.get<std::size_t>() < frames.size());
        }
        samples += s["samples"].get<std::uint64_t>();
        threads.insert(s["thread"].get<int>());
    }
    CHECK(samples == 100);
    CHECK(threads == std::set<int>{100, 101});
    // Stacks stay per thread in JSON: the same frames on two threads are two stacks.
    CHECK(stacks[0]["frames"] == stacks[1]["frames"]);
    CHECK(stacks[0]["thread"] == 100);
    CHECK(stacks[1]["thread"] == 101);
    CHECK(stacks[1]["rss_delta_bytes"] == -256 * 1024);
    CHECK(stacks[5]["frames"] == json::array({0, 1, 6}));
}

TEST_CASE("json output reports hardware instructions and the timeline when present", "[output]") {
    const json doc = json::parse(written(
        sample_profile({.hardware_counter = true, .timeline = true}), output::Format::Json));
    CHECK(doc["counters"]["instructions"] == "hardware");
    CHECK(doc["totals"]["instructions"] == 200'000'000);
    CHECK(doc["stacks"][0]["instructions"] == 100'000'000);
    REQUIRE(doc.contains("timeline"));
    const json& timeline = doc["timeline"];
    REQUIRE(timeline.size() == 100);
    CHECK(timeline[0] == json::array({0, 0}));
    CHECK(timeline[1] == json::array({1, 1}));
    for (const json& entry : timeline) {
        CHECK(entry[1].get<std::size_t>() < doc["stacks"].size());
    }
}

TEST_CASE("json output replaces invalid UTF-8 from the target instead of failing", "[output]") {
    profile::Profile p;
    const auto f = p.frames.intern({"bad\xff\xfename", "x.py", 1, profile::FrameKind::Python});
    p.stacks.add(p.stacks.intern(1, std::vector<profile::FrameId>{f}), {.samples = 1});
    const json doc = json::parse(written(p, output::Format::Json));
    CHECK(doc["frames"][0]["name"] == "bad\xEF\xBF\xBD\xEF\xBF\xBDname");
    CHECK_FALSE(doc.contains("timeline"));
}
