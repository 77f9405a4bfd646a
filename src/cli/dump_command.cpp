#include "cpuprof/cli/commands.hpp"
#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/sampling/snapshot.hpp"
#include "cpuprof/sampling/target.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cpuprof::cli {

namespace {

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

const char* status_text(python::ReadStatus status) {
    switch (status) {
    case python::ReadStatus::Ok:
        return "ok";
    case python::ReadStatus::Failed:
        return "read failed";
    case python::ReadStatus::Torn:
        return "stack kept changing while it was read";
    }
    return "?";
}

void print_text(const sampling::Target& target,
                const std::vector<sampling::ThreadSnapshot>& threads) {
    const auto& interp = target.interpreter();
    fmt::print("Process {}: {}\n", target.pid(), join(process::command_line(target.pid())));
    fmt::print("Python v{} ({})\n", interp.version.str(), interp.executable);
    for (const auto& t : threads) {
        std::string state = t.on_cpu ? "active" : "idle";
        if (t.holds_gil) {
            state += ", holds GIL";
        }
        fmt::print("\nThread {} ({}): \"{}\"\n", t.tid, state,
                   t.python_name.empty() ? t.os_name : t.python_name);
        if (t.status != python::ReadStatus::Ok) {
            fmt::print("    <{}>\n", status_text(t.status));
        }
        for (const auto& f : t.frames) {
            fmt::print("    {}\n", f.label());
        }
        if (t.truncated) {
            fmt::print("    <more frames not shown: deeper than {}>\n", python::kMaxDepth);
        }
    }
    std::fflush(stdout);
}

void print_json(const sampling::Target& target,
                const std::vector<sampling::ThreadSnapshot>& threads) {
    const auto& interp = target.interpreter();
    nlohmann::ordered_json doc;
    doc["pid"] = target.pid();
    doc["python_version"] = interp.version.str();
    doc["executable"] = interp.executable;
    doc["command_line"] = process::command_line(target.pid());
    auto& list = doc["threads"] = nlohmann::ordered_json::array();
    for (const auto& t : threads) {
        nlohmann::ordered_json thread;
        thread["tid"] = t.tid;
        thread["thread_id"] = t.thread_id;
        thread["name"] = t.python_name.empty() ? t.os_name : t.python_name;
        thread["python_name"] = t.python_name.empty() ? nlohmann::ordered_json()
                                                      : nlohmann::ordered_json(t.python_name);
        thread["os_name"] = t.os_name;
        thread["active"] = t.on_cpu;
        thread["holds_gil"] = t.holds_gil;
        thread["status"] = status_text(t.status);
        thread["truncated"] = t.truncated;
        auto& frames = thread["frames"] = nlohmann::ordered_json::array();
        for (const auto& f : t.frames) {
            frames.push_back({{"function", f.name},
                              {"file", f.file},
                              {"line", f.line},
                              {"kind", profile::kind_name(f.kind)}});
        }
        list.push_back(std::move(thread));
    }
    fmt::print("{}\n", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    std::fflush(stdout);
}

} // namespace

int run_dump(const DumpOptions& options) {
    auto target = sampling::Target::attach(options.target.pid);
    auto threads = options.native || options.native_all
                       ? sampling::snapshot_threads_native(*target, options.native_all)
                       : sampling::snapshot_threads(*target);
    if (options.json) {
        print_json(*target, threads);
    } else {
        print_text(*target, threads);
    }
    return 0;
}

} // namespace cpuprof::cli
