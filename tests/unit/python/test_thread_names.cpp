#include "live_fixture.hpp"
#include "object_image.hpp"
#include "pyenv.hpp"

#include "cpuprof/process/child_process.hpp"
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/python/interpreter.hpp"
#include "cpuprof/python/thread_names.hpp"
#include "cpuprof/python/thread_states.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::python;
using test::ObjectImage;

namespace {

const PyOffsets& table(int minor) {
    const PyOffsets* offsets = static_offsets(3, minor);
    REQUIRE(offsets != nullptr);
    return *offsets;
}

struct NamedThread {
    std::uint64_t ident = 0;
    std::u32string name;
    bool materialized = false; ///< attributes in a dict of its own rather than shared-key values
};

/// A target's threading state in a synthetic image: an interpreter whose sys.modules holds a
/// threading module with `_active` and `_main_thread`.
class FakeThreading {
  public:
    explicit FakeThreading(int minor)
        : image_(table(minor)) {
        interpreter_.offsets = image_.offsets();
        interpreter_.version = PythonVersion{3, minor, 0};
        thread_class_ = image_.heap_class(
            "Thread", {image_.ascii("_target"), image_.ascii("_name"), image_.ascii("_ident")});
    }

    RemoteAddr thread(const NamedThread& t) { return thread_with_name(t, image_.str(t.name)); }

    RemoteAddr thread_with_name(const NamedThread& t, RemoteAddr name) {
        const RemoteAddr ident = t.ident == 0 ? image_.none() : image_.int_value(t.ident);
        return image_.instance(thread_class_, {image_.none(), name, ident}, t.materialized);
    }

    /// `active` maps idents to thread objects; `main_thread` is threading._main_thread (0: unset).
    RemoteAddr build(const std::vector<DictItem>& active, RemoteAddr main_thread) {
        std::vector<DictItem> globals = {{image_.ascii("__name__"), image_.ascii("threading")},
                                         {image_.ascii("_active"), image_.dict(active, false)}};
        if (main_thread != 0) {
            globals.push_back({image_.ascii("_main_thread"), main_thread});
        }
        return with_modules({{image_.ascii("sys"), module(image_.dict({}))},
                             {image_.ascii("threading"), module(image_.dict(globals))}});
    }

    RemoteAddr with_modules(const std::vector<DictItem>& modules) {
        const auto& o = image_.offsets();
        const RemoteAddr interp = image_.allocate(static_cast<std::size_t>(o.interp.modules) + 8);
        image_.put_pointer(interp + static_cast<RemoteAddr>(o.interp.modules),
                           image_.dict(modules));
        return interp;
    }

    RemoteAddr module(RemoteAddr globals) {
        const RemoteAddr m = image_.object(image_.type("module", 0, 0), 56);
        image_.put_pointer(m + static_cast<RemoteAddr>(image_.offsets().module.md_dict), globals);
        return m;
    }

    ThreadNames read(RemoteAddr interp) {
        return read_thread_names(image_.memory(), interpreter_, interp);
    }

    ObjectImage& image() { return image_; }

  private:
    ObjectImage image_;
    Interpreter interpreter_;
    ObjectImage::HeapClass thread_class_;
};

std::string utf8(const std::u32string& text) {
    std::string out;
    for (const char32_t cp : text) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

} // namespace

TEST_CASE("thread names come from threading._active", "[python][thread_names]") {
    const int minor = GENERATE(8, 9, 10, 11, 12, 13);
    CAPTURE(minor);
    FakeThreading fake(minor);
    const std::vector<NamedThread> threads = {
        {0x7f3a5d2e1740, U"MainThread", false},
        {0x7f3a5c1ff640, U"sleepy-worker", false},
        {0x7f3a5b9fe640, U"W\u00f6rker-\u00df", true},
        {0x7f3a5b1fd640, U"Thread-3 (park)", false},
        {0x7f3a5a9fc640, U"\u5de5\u4eba-\U0001f525", true},
    };
    std::vector<DictItem> active;
    ThreadNames expected;
    for (const auto& t : threads) {
        const RemoteAddr thread = fake.thread(t);
        active.push_back({fake.image().int_value(t.ident), thread});
        expected[t.ident] = utf8(t.name);
    }
    const RemoteAddr interp = fake.build(active, active.front().value);
    CHECK(fake.read(interp) == expected);
}

TEST_CASE("the main thread is named from _main_thread when _active lacks it",
          "[python][thread_names]") {
    const int minor = GENERATE(10, 12, 13);
    CAPTURE(minor);
    FakeThreading fake(minor);
    const NamedThread worker{0x7f0000002000, U"worker"};
    const std::vector<DictItem> active = {
        {fake.image().int_value(worker.ident), fake.thread(worker)}};

    const RemoteAddr with_main = fake.build(active, fake.thread({0x7f0000001000, U"MainThread"}));
    CHECK(fake.read(with_main) ==
          ThreadNames{{0x7f0000001000, "MainThread"}, {0x7f0000002000, "worker"}});

    // A _main_thread whose _ident is still None names nothing.
    const RemoteAddr unstarted = fake.build(active, fake.thread({0, U"MainThread"}));
    CHECK(fake.read(unstarted) == ThreadNames{{0x7f0000002000, "worker"}});
}

TEST_CASE("unreadable or missing threading state gives no names", "[python][thread_names]") {
    const int minor = GENERATE(9, 11, 12);
    CAPTURE(minor);
    FakeThreading fake(minor);
    auto& image = fake.image();

    SECTION("threading was never imported") {
        CHECK(fake.read(fake.with_modules({{image.ascii("sys"), image.none()}})).empty());
    }
    SECTION("the interpreter or sys.modules cannot be read") {
        CHECK(fake.read(0).empty());
        CHECK(fake.read(0x7000).empty());
        CHECK(fake.read(fake.with_modules({{image.ascii("threading"), 0x7000}})).empty());
    }
    SECTION("_active is not a dict and there is no _main_thread") {
        CHECK(fake.read(fake.build({}, 0)).empty());
        const RemoteAddr bogus = fake.with_modules(
            {{image.ascii("threading"),
              fake.module(image.dict({{image.ascii("_active"), image.ascii("x")}}))}});
        CHECK(fake.read(bogus).empty());
    }
    SECTION("threads whose name is not a str are left out") {
        const NamedThread bad{0x7f0000003000, U""};
        const NamedThread good{0x7f0000004000, U"good"};
        const std::vector<DictItem> active = {
            {image.int_value(bad.ident), fake.thread_with_name(bad, image.int_value(42))},
            {image.int_value(good.ident), fake.thread(good)}};
        CHECK(fake.read(fake.build(active, 0)) == ThreadNames{{good.ident, "good"}});
    }
}

TEST_CASE("thread names are capped", "[python][thread_names]") {
    FakeThreading fake(12);
    std::vector<DictItem> active;
    for (std::uint64_t i = 1; i <= kMaxThreadNames + 10; ++i) {
        const NamedThread t{0x7f0000000000 + i * 0x1000, U"t"};
        active.push_back({fake.image().int_value(t.ident), fake.thread(t)});
    }
    CHECK(fake.read(fake.build(active, 0)).size() == kMaxThreadNames);
}

namespace {

void check_live_names(const std::string& executable) {
    test::ScratchDir scratch("cpuprof-names-");
    const auto ready = scratch.path() / "ready.json";
    auto spawned = test::spawn_script(executable, "named_threads.py", ready);
    REQUIRE(spawned);
    process::ChildProcess& child = *spawned;
    std::ifstream in(ready);
    const auto report = nlohmann::json::parse(in);

    ThreadNames expected;
    for (const auto& entry : report) {
        expected[entry.at(0).get<std::uint64_t>()] = entry.at(1).get<std::string>();
    }
    REQUIRE(expected.size() == 5);

    process::ProcessMemory memory(child.pid());
    const auto interpreter =
        locate_interpreter(child.pid(), memory, process::read_maps(child.pid()));
    const RemoteAddr interp = main_interpreter(memory, interpreter);
    const auto names = read_thread_names(memory, interpreter, interp);
    CHECK(names == expected);
    CHECK(names.at(report.at(0).at(0).get<std::uint64_t>()) == "MainThread");
    CHECK(names.at(report.at(2).at(0).get<std::uint64_t>()) == "W\u00f6rker-\u00df");
    CHECK(names.at(report.at(3).at(0).get<std::uint64_t>()).starts_with("Thread-"));

    // The idents are the thread states' thread_id, which is how the dump joins the two.
    ThreadStateReader states(memory, interpreter);
    std::vector<ThreadState> list;
    REQUIRE(states.list(interp, list));
    CHECK(list.size() == expected.size());
    for (const auto& state : list) {
        CHECK(names.contains(state.thread_id));
    }
}

} // namespace

TEST_CASE("thread names are read from live interpreters", "[python][thread_names][live]") {
    CHECK_FALSE(test::for_each_live_python(check_live_names).empty());
}
