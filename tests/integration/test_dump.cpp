// cpuprof dump against every interpreter here: exact functions, files, lines, threads.
#include "support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace cpuprof::testing;
using nlohmann::json;

namespace {

const json* thread_with_tid(const json& doc, long tid) {
    for (const auto& t : doc["threads"]) {
        if (t["tid"].get<long>() == tid) {
            return &t;
        }
    }
    return nullptr;
}

void check_frame(const json& frame,
                 const std::string& function,
                 const std::string& file_suffix,
                 int line) {
    INFO("frame: " << frame.dump());
    CHECK(frame["function"].get<std::string>() == function);
    CHECK(frame["file"].get<std::string>().ends_with(file_suffix));
    CHECK(frame["line"].get<int>() == line);
}

} // namespace

TEST_CASE("dump shows every thread's exact stack on every interpreter", "[integration][dump]") {
    for (const auto& interp : interpreters()) {
        SECTION(interp.label) {
            TempDir dir;
            const auto ready = dir.file("ready.json");
            Spawned target({interp.path, fixture("dump_target.py"), ready});
            REQUIRE(wait_for_file(ready, std::chrono::seconds(30)));
            const json info = json::parse(read_file(ready));
            const auto& marks = info["marks"];
            const bool qualnames = interp.minor >= 11;

            auto result =
                run({cpuprof_binary(), "dump", "--pid", std::to_string(target.pid()), "--json"});
            INFO(interp.label << " stderr: " << result.err);
            REQUIRE(result.status == 0);
            const json doc = json::parse(result.out);
            CHECK(doc["pid"].get<long>() == target.pid());
            CHECK(doc["python_version"].get<std::string>().starts_with(
                fmt::format("3.{}.", interp.minor)));
            REQUIRE(doc["threads"].size() == 7);

            // The main thread comes first and spins in spin() called from <module>.
            const auto& main = doc["threads"][0];
            CHECK(main["tid"].get<long>() == target.pid());
            REQUIRE(main["frames"].size() == 2);
            CHECK(main["frames"][0]["function"] == "spin");
            const int spin_line = main["frames"][0]["line"].get<int>();
            const int first = info["spin_first_line"].get<int>();
            CHECK(spin_line > first);
            CHECK(spin_line <= first + 3);
            CHECK(main["frames"][1]["function"] == "<module>");
            CHECK(main["holds_gil"].get<bool>());

            CHECK(main["python_name"] == "MainThread");
            auto native = [&](const char* name) { return info["native_ids"][name].get<long>(); };
            for (const auto* name : {"sleepy-worker", "closure-worker", "generator-worker",
                                     "deep-worker", "hangul-worker", "emoji-worker"}) {
                const json* t = thread_with_tid(doc, native(name));
                REQUIRE(t != nullptr);
                CHECK((*t)["python_name"] == name);
                CHECK((*t)["name"] == name);
                CHECK((*t)["thread_id"].get<std::uint64_t>() ==
                      info["idents"][name].get<std::uint64_t>());
            }

            const json* sleeper = thread_with_tid(doc, native("sleepy-worker"));
            REQUIRE(sleeper != nullptr);
            check_frame((*sleeper)["frames"][0], "sleeper", "dump_target.py",
                        marks["sleeper"].get<int>());
            CHECK_FALSE((*sleeper)["holds_gil"].get<bool>());
            CHECK_FALSE((*sleeper)["active"].get<bool>());
            const auto& outer = (*sleeper)["frames"].back();
            CHECK(outer["function"] == (qualnames ? "Thread._bootstrap" : "_bootstrap"));
            CHECK(outer["file"].get<std::string>().ends_with("threading.py"));

            const json* closure = thread_with_tid(doc, native("closure-worker"));
            REQUIRE(closure != nullptr);
            bool found_closure = false;
            for (const auto& f : (*closure)["frames"]) {
                if (f["function"] ==
                    (qualnames ? "make_closure.<locals>.inner_closure" : "inner_closure")) {
                    check_frame(f, f["function"], "dump_target.py",
                                marks["inner_closure"].get<int>());
                    found_closure = true;
                }
            }
            CHECK(found_closure);

            const json* gen = thread_with_tid(doc, native("generator-worker"));
            REQUIRE(gen != nullptr);
            check_frame((*gen)["frames"][0], "generator_body", "dump_target.py",
                        marks["generator_body"].get<int>());
            CHECK((*gen)["frames"][1]["function"] == "run_generator");

            const json* deep = thread_with_tid(doc, native("deep-worker"));
            REQUIRE(deep != nullptr);
            const std::string render = qualnames ? "Widget.render" : "render";
            int renders = 0;
            for (const auto& f : (*deep)["frames"]) {
                renders += f["function"] == render ? 1 : 0;
            }
            CHECK(renders == 301);
            check_frame((*deep)["frames"][0], render, "dump_target.py", marks["render"].get<int>());

            const json* hangul = thread_with_tid(doc, native("hangul-worker"));
            REQUIRE(hangul != nullptr);
            check_frame((*hangul)["frames"][0], "함수", "dump_target.py",
                        marks["hangul"].get<int>());

            const json* emoji = thread_with_tid(doc, native("emoji-worker"));
            REQUIRE(emoji != nullptr);
            check_frame((*emoji)["frames"][0], "burn🔥", "dump_target.py",
                        marks["emoji"].get<int>());
        }
    }
}

TEST_CASE("dump prints a readable text report", "[integration][dump]") {
    REQUIRE_FALSE(interpreters().empty());
    const auto& interp = interpreters().back();
    TempDir dir;
    const auto ready = dir.file("ready.json");
    Spawned target({interp.path, fixture("dump_target.py"), ready});
    REQUIRE(wait_for_file(ready, std::chrono::seconds(30)));
    const json info = json::parse(read_file(ready));
    auto result = run({cpuprof_binary(), "dump", "--pid", std::to_string(target.pid())});
    REQUIRE(result.status == 0);
    CHECK(result.out.starts_with(fmt::format("Process {}: ", target.pid())));
    CHECK(result.out.find(fmt::format("\nThread {} (active, holds GIL): \"MainThread\"",
                                      target.pid())) != std::string::npos);
    CHECK(result.out.find(fmt::format("    sleeper ({}:{})\n", fixture("dump_target.py"),
                                      info["marks"]["sleeper"].get<int>())) != std::string::npos);
}
