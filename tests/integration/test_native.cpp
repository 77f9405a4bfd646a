// --native end to end: C functions appear under the Python functions that called them.
#include "support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace cpuprof::testing;
using nlohmann::json;

namespace {

struct Collapsed {
    std::vector<std::pair<std::string, long>> lines;
    /// Samples of stacks containing every needle, in this order (root to leaf).
    long samples_with(const std::vector<std::string>& needles) const {
        long total = 0;
        for (const auto& [stack, count] : lines) {
            std::size_t at = 0;
            bool all = true;
            for (const auto& needle : needles) {
                at = stack.find(needle, at);
                if (at == std::string::npos) {
                    all = false;
                    break;
                }
                at += needle.size();
            }
            total += all ? count : 0;
        }
        return total;
    }
};

Collapsed record_native(const Interpreter& interp, const std::string& mode) {
    TempDir dir;
    Spawned target({interp.path, fixture("native_work.py"), mode, dir.file("ready")});
    REQUIRE(wait_for_file(dir.file("ready"), std::chrono::seconds(20)));
    const auto out = dir.file("p.collapsed");
    auto r = run({cpuprof_binary(), "record", "--native", "--rate", "200", "-d", "1.5", "-q",
                  "--pid", std::to_string(target.pid()), "-o", out});
    INFO(interp.label << " stderr: " << r.err);
    REQUIRE(r.status == 0);
    Collapsed c;
    std::istringstream in(read_file(out));
    std::string line;
    while (std::getline(in, line)) {
        const auto space = line.rfind(' ');
        c.lines.emplace_back(line.substr(0, space), std::stol(line.substr(space + 1)));
    }
    // The target was only paused per sample: it is still running.
    const auto stat = read_file(fmt::format("/proc/{}/stat", target.pid()));
    CHECK((stat.find(") R ") != std::string::npos || stat.find(") S ") != std::string::npos));
    return c;
}

} // namespace

TEST_CASE("native stacks show zlib and sha256 under the Python functions that call them",
          "[integration][native]") {
    for (const auto& interp : interpreters()) {
        SECTION(interp.label) {
            const auto c = record_native(interp, "compress");
            const long compress = c.samples_with({"compress_loop (", "do_compress (", "deflate"});
            const long hash = c.samples_with({"compress_loop (", "do_hash (", "SHA256"});
            INFO("deflate under do_compress: " << compress << ", SHA256 under do_hash: " << hash);
            CHECK(compress > 20);
            CHECK(hash > 5);
            // The eval loop itself is folded away by default.
            CHECK(c.samples_with({"_PyEval_EvalFrameDefault"}) == 0);
        }
    }
}

TEST_CASE("native stacks show Python -> C -> Python through a ctypes qsort callback",
          "[integration][native]") {
    for (const auto& interp : interpreters()) {
        SECTION(interp.label) {
            const auto c = record_native(interp, "qsort");
            const long nested = c.samples_with({"sort_loop (", "qsort", "compare ("});
            INFO("compare under qsort under sort_loop: " << nested);
            CHECK(nested > 20);
        }
    }
}

TEST_CASE("dump --native merges native frames into each thread's stack", "[integration][native]") {
    const auto& interp = interpreters().back();
    TempDir dir;
    Spawned target({interp.path, fixture("native_work.py"), "qsort", dir.file("ready")});
    REQUIRE(wait_for_file(dir.file("ready"), std::chrono::seconds(20)));
    // The thread is in qsort most of the time; a few tries make the check deterministic.
    bool seen = false;
    for (int i = 0; i < 20 && !seen; ++i) {
        auto r = run({cpuprof_binary(), "dump", "--native", "--json", "--pid",
                      std::to_string(target.pid())});
        REQUIRE(r.status == 0);
        const json doc = json::parse(r.out);
        const auto& frames = doc["threads"][0]["frames"];
        int qsort_at = -1;
        int sort_loop_at = -1;
        for (int k = 0; k < static_cast<int>(frames.size()); ++k) {
            const auto name = frames[k]["function"].get<std::string>();
            if (name.find("qsort") != std::string::npos && frames[k]["kind"] == "native") {
                qsort_at = k;
            }
            if (name == "sort_loop" && frames[k]["kind"] == "python") {
                sort_loop_at = k;
            }
        }
        seen = qsort_at >= 0 && sort_loop_at > qsort_at;
    }
    CHECK(seen);
}
