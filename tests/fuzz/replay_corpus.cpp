// Replays saved fuzz inputs through the harnesses without libFuzzer, so the ordinary (g++) test
// suite keeps every input that ever found a bug fixed.
//   fuzz_replay HARNESS DIR_OR_FILE...
#include "harnesses.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

namespace {

using Harness = void (*)(const std::uint8_t*, std::size_t);

Harness find_harness(std::string_view name) {
    if (name == "linetable") {
        return cpuprof::fuzz::linetable_one_input;
    }
    if (name == "unicode") {
        return cpuprof::fuzz::unicode_one_input;
    }
    if (name == "walker") {
        return cpuprof::fuzz::walker_one_input;
    }
    return nullptr;
}

void replay(Harness harness, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    // A copy of exactly the input's size, as libFuzzer passes it.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    harness(input.data(), input.size());
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: {} linetable|unicode|walker DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    const Harness harness = find_harness(argv[1]);
    if (harness == nullptr) {
        fmt::print(stderr, "unknown harness '{}': use linetable, unicode or walker\n", argv[1]);
        return 2;
    }
    std::size_t count = 0;
    for (int i = 2; i < argc; ++i) {
        const std::filesystem::path path(argv[i]);
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path)) {
                if (entry.is_regular_file()) {
                    files.push_back(entry.path());
                }
            }
        } else if (std::filesystem::is_regular_file(path)) {
            files.push_back(path);
        } else {
            fmt::print(stderr, "{}: no such file or directory\n", path.string());
            return 1;
        }
        for (const auto& file : files) {
            replay(harness, file);
            ++count;
        }
    }
    if (count == 0) {
        fmt::print(stderr, "no inputs found: the corpus must not be empty\n");
        return 1;
    }
    fmt::print("replayed {} inputs through the {} harness\n", count, argv[1]);
    return 0;
}
