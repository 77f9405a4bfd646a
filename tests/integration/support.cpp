#include "support.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cpuprof::testing {

namespace fs = std::filesystem;

const std::vector<Interpreter>& interpreters() {
    static const std::vector<Interpreter> found = [] {
        std::vector<Interpreter> list;
        std::string root = std::getenv("PYENV_ROOT") ? std::getenv("PYENV_ROOT") : "";
        if (root.empty()) {
            root = "/root/.pyenv";
        }
        std::vector<std::string> missing;
        for (int minor = 8; minor <= 13; ++minor) {
            std::optional<std::string> path;
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(root + "/versions", ec)) {
                const auto name = entry.path().filename().string();
                if (name.starts_with(fmt::format("3.{}.", minor)) &&
                    name.find_first_not_of("0123456789.") == std::string::npos) {
                    auto exe = entry.path() / "bin" / fmt::format("python3.{}", minor);
                    if (fs::exists(exe)) {
                        path = exe.string();
                    }
                }
            }
            if (path) {
                list.push_back({fmt::format("3.{} (pyenv)", minor), *path, minor});
            } else {
                missing.push_back(fmt::format("3.{} (pyenv)", minor));
            }
        }
        for (int minor = 8; minor <= 13; ++minor) {
            auto exe = fmt::format("/usr/bin/python3.{}", minor);
            if (fs::exists(exe)) {
                list.push_back({fmt::format("3.{} (distribution)", minor), exe, minor});
            }
        }
        std::string covered;
        for (const auto& i : list) {
            covered += (covered.empty() ? "" : ", ") + i.label;
        }
        std::string skipped;
        for (const auto& m : missing) {
            skipped += (skipped.empty() ? "" : ", ") + m;
        }
        std::fprintf(stderr, "integration: interpreters covered: %s; skipped (not installed): %s\n",
                     covered.empty() ? "none" : covered.c_str(),
                     skipped.empty() ? "none" : skipped.c_str());
        return list;
    }();
    return found;
}

TempDir::TempDir() {
    char templ[] = "/tmp/cpuprof-test-XXXXXX";
    path = ::mkdtemp(templ);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
}

namespace {

int exit_status(int wait_status) {
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

} // namespace

pid_t start_process(const std::vector<std::string>& argv, const std::function<void()>& prepare) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (prepare) {
            prepare();
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

void redirect_stdio(const std::string& out_path, const std::string& err_path) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(in, 0);
}

std::optional<int>
wait_exit(pid_t pid, std::chrono::milliseconds timeout, std::chrono::milliseconds interval) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return exit_status(status);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(interval);
    }
}

Spawned::Spawned(const std::vector<std::string>& argv)
    : pid_(start_process(argv, [] { ::setpgid(0, 0); })) {}

Spawned::~Spawned() {
    if (!status_) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

std::optional<int> Spawned::wait(std::chrono::milliseconds timeout) {
    if (!status_) {
        status_ = wait_exit(pid_, timeout, std::chrono::milliseconds(5));
    }
    return status_;
}

void Spawned::signal(int sig) {
    ::kill(pid_, sig);
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::error_code ec;
        if (fs::exists(path, ec) && fs::file_size(path, ec) > 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<std::string> stat_field(const std::string& stat, int number) {
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int at = 3; fields >> field; ++at) {
        if (at == number) {
            return field;
        }
    }
    return std::nullopt;
}

CommandResult run(const std::vector<std::string>& argv, const std::function<void()>& prepare) {
    TempDir dir;
    const auto out_path = dir.file("out");
    const auto err_path = dir.file("err");
    const pid_t pid = start_process(argv, [&] {
        redirect_stdio(out_path, err_path);
        if (prepare) {
            prepare();
        }
    });
    int status = 0;
    ::waitpid(pid, &status, 0);
    CommandResult result;
    result.status = exit_status(status);
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
}

std::string cpuprof_binary() {
    return CPUPROF_BINARY;
}
std::string fixture(const std::string& name) {
    return std::string(CPUPROF_FIXTURES) + "/" + name;
}

std::uint64_t samples_in(const nlohmann::json& profile, const std::string& function) {
    std::set<std::uint64_t> ids;
    for (const auto& f : profile["frames"]) {
        if (f["name"] == function) {
            ids.insert(f["id"].get<std::uint64_t>());
        }
    }
    std::uint64_t total = 0;
    for (const auto& s : profile["stacks"]) {
        for (const auto& id : s["frames"]) {
            if (ids.contains(id.get<std::uint64_t>())) {
                total += s["samples"].get<std::uint64_t>();
                break;
            }
        }
    }
    return total;
}

} // namespace cpuprof::testing
