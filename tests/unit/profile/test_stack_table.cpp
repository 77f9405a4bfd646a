#include "cpuprof/profile/frame_table.hpp"
#include "cpuprof/profile/stack_table.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace cpuprof::profile;

TEST_CASE("frames are interned once and labelled for collapsed stacks", "[profile]") {
    FrameTable table;
    const auto a = table.intern({"Widget.render", "app.py", 12, FrameKind::Python});
    const auto b = table.intern({"main", "app.py", 30, FrameKind::Python});
    CHECK(table.intern({"Widget.render", "app.py", 12, FrameKind::Python}) == a);
    CHECK(a != b);
    CHECK(table.size() == 2);
    CHECK(table[a].label() == "Widget.render (app.py:12)");
    CHECK(Frame{"deflate", "/usr/lib/x86_64-linux-gnu/libz.so.1", 0, FrameKind::Native}.label() ==
          "deflate (libz.so.1)");
    CHECK(Frame{"f;g\nh", "x.py", 0, FrameKind::Python}.label() == "f:g h (x.py)");
}

TEST_CASE("stacks are deduplicated per thread and accumulate metrics", "[profile]") {
    StackTable stacks;
    std::vector<FrameId> s1{0, 1, 2};
    std::vector<FrameId> s2{0, 1};
    const auto id1 = stacks.intern(100, s1);
    const auto id2 = stacks.intern(100, s2);
    const auto id3 = stacks.intern(101, s1);
    CHECK(stacks.intern(100, s1) == id1);
    CHECK(id1 != id2);
    CHECK(id1 != id3);
    stacks.add(id1, {.samples = 1, .instructions = 10, .rss_delta = -4096, .cpu_ns = 1000});
    stacks.add(id1, {.samples = 2, .instructions = 5, .rss_delta = 8192, .cpu_ns = 500});
    CHECK(stacks.metrics(id1).samples == 3);
    CHECK(stacks.metrics(id1).instructions == 15);
    CHECK(stacks.metrics(id1).rss_delta == 4096);
    CHECK(stacks.metrics(id1).cpu_ns == 1500);
    CHECK(std::vector<FrameId>(stacks.frames(id2).begin(), stacks.frames(id2).end()) == s2);
    CHECK(stacks.thread(id3) == 101);
    CHECK(stacks.totals().samples == 3);
    stacks.clear();
    CHECK(stacks.size() == 0);
}
