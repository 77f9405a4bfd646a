#pragma once

#include "cpuprof/output/writer.hpp"
#include "cpuprof/profile/profile.hpp"

#include <sstream>
#include <string>

namespace cpuprof::test {

/// A hand-built profile for the output tests: 100 samples over 2 threads (100 "MainThread",
/// 101 "worker"), frames with Korean and emoji names, one with '<&>"' and one with ';', a native
/// frame, recursion (main calls back into main), positive and negative RSS deltas.
///
///   thread 100: main;함수 x50 (+1 MiB)   main;🔥;render<&>"' x10 (+4 KiB)   main;함수;main x5
///   thread 101: main;함수 x25 (-256 KiB) main;a;b;deflate x7 (-1 MiB)        main;🔥 x3
struct SampleOptions {
    bool per_thread = false;
    bool hardware_counter = false;
    bool timeline = false; ///< fill profile.timeline with one entry per sample
};

[[nodiscard]] profile::Profile sample_profile(const SampleOptions& options = {});

/// The labels of the sample's frames, as Frame::label() writes them.
inline const std::string kMainLabel = "main (app.py:10)";
inline const std::string kMainRecursiveLabel = "main (app.py:12)";
inline const std::string kKoreanLabel = "함수 (app.py:20)";
inline const std::string kFireLabel = "🔥 (fire.py:3)";
inline const std::string kMarkupLabel = "render<&>\"' (tmpl.py:7)";
inline const std::string kSemicolonLabel = "a:b (semi.py:1)";
inline const std::string kNativeLabel = "deflate (libz.so.1)";

/// The whole output of `format` for `profile`.
inline std::string written(const profile::Profile& profile, output::Format format) {
    std::ostringstream out;
    output::write_profile(profile, format, out);
    return out.str();
}

} // namespace cpuprof::test
