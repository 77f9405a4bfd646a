#include "cpuprof/version.hpp"
#include "sample_profile.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cpuprof;
using namespace cpuprof::test;
using nlohmann::json;

namespace {

// The rules speedscope's importer enforces, and the ones we promise on top.
void check_invariants(const json& doc) {
    CHECK(doc["$schema"] == "https://www.speedscope.app/file-format-schema.json");
    CHECK(doc["exporter"] == std::string("cpuprof@") + kVersion);
    const std::size_t frames = doc["shared"]["frames"].size();
    for (const json& frame : doc["shared"]["frames"]) {
        CHECK(frame["name"].is_string());
    }
    for (const json& p : doc["profiles"]) {
        CHECK(p["type"] == "sampled");
        CHECK(p["startValue"] == 0);
        REQUIRE(p["samples"].size() == p["weights"].size());
        double sum = 0;
        for (const json& w : p["weights"]) {
            CHECK(w.get<double>() > 0);
            sum += w.get<double>();
        }
        CHECK(p["endValue"].get<double>() == Approx(sum));
        for (const json& sample : p["samples"]) {
            for (const json& index : sample) {
                CHECK(index.get<std::size_t>() < frames);
            }
        }
    }
}

} // namespace

TEST_CASE("speedscope output has one sampled profile per thread", "[output]") {
    const json doc = json::parse(written(sample_profile(), output::Format::Speedscope));
    check_invariants(doc);
    const json& frames = doc["shared"]["frames"];
    REQUIRE(frames.size() == 7);
    CHECK(frames[0] == json{{"name", "main"}, {"file", "app.py"}, {"line", 10}});
    CHECK(frames[5] == json{{"name", "deflate"}, {"file", "/usr/lib/x86_64-linux-gnu/libz.so.1"}});

    const json& profiles = doc["profiles"];
    REQUIRE(profiles.size() == 2);
    CHECK(profiles[0]["name"] == "MainThread (tid 100)");
    CHECK(profiles[1]["name"] == "worker (tid 101)");
    CHECK(profiles[0]["unit"] == "milliseconds");
    // Without a timeline: one sample per stack, weighing samples x 1 ms at 1 kHz.
    CHECK(profiles[0]["samples"] == json::array({{0, 1}, {0, 2, 3}, {0, 1, 6}}));
    CHECK(profiles[0]["weights"] == json::array({50.0, 10.0, 5.0}));
    CHECK(profiles[0]["endValue"] == 65.0);
    CHECK(profiles[1]["samples"] == json::array({{0, 1}, {0, 4, 5}, {0, 2}}));
    CHECK(profiles[1]["endValue"] == 35.0);
}

TEST_CASE("speedscope output follows the timeline when there is one", "[output]") {
    auto p = sample_profile({.timeline = true});
    p.rate_hz = 250; // 4 ms per sample
    const json doc = json::parse(written(p, output::Format::Speedscope));
    check_invariants(doc);
    const json& profiles = doc["profiles"];
    REQUIRE(profiles.size() == 2);
    CHECK(profiles[0]["samples"].size() == 65);
    CHECK(profiles[1]["samples"].size() == 35);
    CHECK(profiles[0]["endValue"].get<double>() == Approx(65 * 4.0));
    for (const json& w : profiles[0]["weights"]) {
        CHECK(w.get<double>() == Approx(4.0));
    }
    // Round-robin order of the fixture: thread 100's stacks 0, 2, 5 take turns.
    CHECK(profiles[0]["samples"][0] == json::array({0, 1}));
    CHECK(profiles[0]["samples"][1] == json::array({0, 2, 3}));
    CHECK(profiles[0]["samples"][2] == json::array({0, 1, 6}));
    CHECK(profiles[0]["samples"][3] == json::array({0, 1}));
}

TEST_CASE("speedscope output without a rate weighs samples as counts", "[output]") {
    auto p = sample_profile();
    p.rate_hz = 0;
    const json doc = json::parse(written(p, output::Format::Speedscope));
    check_invariants(doc);
    CHECK(doc["profiles"][0]["unit"] == "none");
    CHECK(doc["profiles"][0]["endValue"] == 65.0);
}

TEST_CASE("speedscope output leaves out stacks without samples", "[output]") {
    profile::Profile p;
    p.rate_hz = 100;
    const auto f = p.frames.intern({"idle", "x.py", 1, profile::FrameKind::Python});
    const std::vector<profile::FrameId> stack{f};
    p.stacks.intern(7, stack);
    p.stacks.add(p.stacks.intern(8, stack), {.samples = 2});
    const json doc = json::parse(written(p, output::Format::Speedscope));
    check_invariants(doc);
    REQUIRE(doc["profiles"].size() == 1);
    CHECK(doc["profiles"][0]["name"] == "thread 8");
    CHECK(doc["profiles"][0]["weights"] == json::array({20.0}));
}
