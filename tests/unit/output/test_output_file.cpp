#include "cpuprof/error.hpp"
#include "cpuprof/output/fd_streambuf.hpp"
#include "cpuprof/output/output_file.hpp"
#include "sample_profile.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::output;
namespace fs = std::filesystem;

namespace {

/// A fresh directory, removed with everything in it at the end of the test.
class ScratchDir {
  public:
    ScratchDir() {
        char name[] = "/tmp/cpuprof-output-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path_ = name;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    [[nodiscard]] std::string operator/(const std::string& name) const {
        return (path_ / name).string();
    }
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(path_)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

  private:
    fs::path path_;
};

std::string contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void put(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

/// The message of the Error `call` throws, checked to be of type E.
template <typename E, typename F> std::string message_of(F call) {
    try {
        call();
    } catch (const E& e) {
        return e.what();
    }
    FAIL("no error was thrown");
    return "";
}

} // namespace

TEST_CASE("AtomicOutputFile replaces the file only on commit", "[output]") {
    ScratchDir dir;
    const std::string path = dir / "profile.txt";
    put(path, "old contents");
    {
        AtomicOutputFile file(path);
        CHECK(fs::path(file.temp_path()).parent_path() == fs::path(path).parent_path());
        file.stream() << "new contents";
        CHECK(contents(path) == "old contents"); // nothing visible before commit
        file.commit();
    }
    CHECK(contents(path) == "new contents");
    CHECK(dir.entries() == std::vector<std::string>{"profile.txt"});
}

TEST_CASE("AtomicOutputFile without commit leaves neither file nor temporary", "[output]") {
    ScratchDir dir;
    {
        AtomicOutputFile file(dir / "never.svg");
        file.stream() << std::string(200'000, 'x'); // more than the buffer: data reached the disk
        CHECK(fs::exists(file.temp_path()));
    }
    CHECK(dir.entries().empty());
}

TEST_CASE("AtomicOutputFile replaces a symlink at the path instead of following it", "[output]") {
    ScratchDir dir;
    const std::string victim = dir / "victim";
    const std::string path = dir / "out.json";
    put(victim, "precious");
    REQUIRE(::symlink(victim.c_str(), path.c_str()) == 0);
    AtomicOutputFile file(path);
    file.stream() << "{}";
    file.commit();
    CHECK(contents(victim) == "precious");
    CHECK(fs::is_regular_file(fs::symlink_status(path)));
    CHECK(contents(path) == "{}");
}

TEST_CASE("AtomicOutputFile creates files 0644 less the umask", "[output]") {
    ScratchDir dir;
    const auto mode_with = [&](mode_t mask, const std::string& name) {
        const mode_t old = ::umask(mask);
        AtomicOutputFile file(dir / name);
        ::umask(old);
        file.commit();
        struct stat st {};
        REQUIRE(::stat((dir / name).c_str(), &st) == 0);
        return st.st_mode & 07777;
    };
    CHECK(mode_with(022, "a") == 0644);
    CHECK(mode_with(077, "b") == 0600);
}

TEST_CASE("AtomicOutputFile reports a directory it cannot write in", "[output]") {
    ScratchDir dir;
    const auto message =
        message_of<OutputError>([&] { AtomicOutputFile file(dir / "missing/out.svg"); });
    CHECK_THAT(message, Catch::Contains(dir / "missing") && Catch::Contains("No such file"));
}

TEST_CASE("a failed write is reported with its errno", "[output]") {
    const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        WARN("/dev/full is not available: skipping");
        return;
    }
    {
        FdStreamBuf buffer(fd, 16);
        std::ostream out(&buffer);
        out << "more than sixteen bytes of profile" << std::flush;
        CHECK_FALSE(out.good());
        CHECK(buffer.error() == ENOSPC);
    }
    ::close(fd);
}

TEST_CASE("check_output_path accepts writable places and stdout", "[output]") {
    ScratchDir dir;
    CHECK_NOTHROW(check_output_path("-"));
    CHECK_NOTHROW(check_output_path(dir / "profile.svg"));
    put(dir / "existing.svg", "x");
    CHECK_NOTHROW(check_output_path(dir / "existing.svg"));
    CHECK(dir.entries() == std::vector<std::string>{"existing.svg"}); // the probe is gone
}

TEST_CASE("check_output_path names the problem and the fix", "[output]") {
    ScratchDir dir;
    const auto missing =
        message_of<UsageError>([&] { check_output_path(dir / "no/such/dir/p.svg"); });
    CHECK_THAT(missing, Catch::Contains("does not exist") && Catch::Contains("mkdir -p"));

    put(dir / "file", "x");
    const auto under_file = message_of<UsageError>([&] { check_output_path(dir / "file/p.svg"); });
    CHECK_THAT(under_file, Catch::Contains(dir / "file") && Catch::Contains("not a directory"));
    const auto deeper = message_of<UsageError>([&] { check_output_path(dir / "file/x/p.svg"); });
    CHECK_THAT(deeper, Catch::Contains("not a directory"));

    fs::create_directory(dir / "sub");
    const auto is_dir = message_of<UsageError>([&] { check_output_path(dir / "sub"); });
    CHECK_THAT(is_dir, Catch::Contains("is a directory") && Catch::Contains("--output-dir"));
    CHECK_THROWS_AS(check_output_path(dir / "sub/"), UsageError);
    CHECK_THROWS_AS(check_output_path(""), UsageError);
    CHECK(message_of<UsageError>([&] { check_output_path(dir / "sub"); }).find('\n') ==
          std::string::npos);
}

TEST_CASE("write_output writes files atomically and '-' to stdout", "[output]") {
    ScratchDir dir;
    const auto profile = test::sample_profile();
    write_output(dir / "p.collapsed", Format::Collapsed, profile);
    CHECK(contents(dir / "p.collapsed") == test::written(profile, Format::Collapsed));

    std::ostringstream captured;
    auto* const old = std::cout.rdbuf(captured.rdbuf());
    write_output("-", Format::Collapsed, profile);
    std::cout.rdbuf(old);
    CHECK(captured.str() == test::written(profile, Format::Collapsed));
    CHECK(dir.entries() == std::vector<std::string>{"p.collapsed"});
}
