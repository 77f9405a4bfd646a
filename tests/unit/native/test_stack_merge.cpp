#include "cpuprof/native/stack_merge.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace cpuprof::native;

namespace {

constexpr auto O = NativeRole::Other;
constexpr auto E = NativeRole::EvalLoop;
constexpr auto I = NativeRole::Interpreter;

MergedItem N(std::uint32_t i) {
    return {MergedItem::Kind::Native, i};
}
MergedItem P(std::uint32_t i) {
    return {MergedItem::Kind::Python, i};
}
const MergedItem kUnmerged{MergedItem::Kind::Unmerged, 0};

struct Merge {
    bool agreed;
    std::vector<MergedItem> items;
};

Merge merge(const std::vector<NativeRole>& native,
            const std::vector<std::uint8_t>& is_entry,
            bool keep_internal = false) {
    Merge result{false, {}};
    result.agreed = merge_stacks(native, is_entry, keep_internal, result.items);
    return result;
}

// What the 3.12+ reader derives from a frame chain with shim frames (innermost first): a frame is
// an entry when the next one out is the shim its eval-loop call pushed. Shims are not reported.
std::vector<std::uint8_t> entries_from_shims(const std::vector<bool>& is_shim) {
    std::vector<std::uint8_t> flags;
    for (std::size_t i = 0; i < is_shim.size(); ++i) {
        if (!is_shim[i]) {
            flags.push_back(i + 1 < is_shim.size() && is_shim[i + 1] ? 1 : 0);
        }
    }
    return flags;
}

} // namespace

TEST_CASE("merge <=3.10: one eval loop per Python frame", "[native][merge]") {
    // zlib.compress under f2 <- f1 <- f0; between the eval loops sit call helpers (Interpreter).
    const std::vector<NativeRole> native{O, O, I, E, I, E, I, E, I, I, O};
    const std::vector<std::uint8_t> python{1, 1, 1};

    auto folded = merge(native, python);
    CHECK(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{N(0), N(1), P(0), P(1), P(2), N(10)});

    auto kept = merge(native, python, true);
    CHECK(kept.agreed);
    CHECK(kept.items == std::vector<MergedItem>{N(0), N(1), N(2), P(0), N(4), P(1), N(6), P(2),
                                                N(8), N(9), N(10)});
}

TEST_CASE("merge 3.11: an eval loop runs a group ending at is_entry", "[native][merge]") {
    // Five Python frames in two eval-loop calls: f0 f1 f2 (entry) and f3 f4 (entry).
    const std::vector<NativeRole> native{O, E, I, E, I};
    const std::vector<std::uint8_t> python{0, 0, 1, 0, 1};

    auto folded = merge(native, python);
    CHECK(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{N(0), P(0), P(1), P(2), P(3), P(4)});

    auto kept = merge(native, python, true);
    CHECK(kept.agreed);
    CHECK(kept.items == std::vector<MergedItem>{N(0), P(0), P(1), P(2), N(2), P(3), P(4), N(4)});
}

TEST_CASE("merge 3.12+: entries derived from shim frames", "[native][merge]") {
    // f0 f1 | shim | f2 | shim | f3 f4 | shim  (innermost first): three eval-loop calls.
    const auto python = entries_from_shims({false, false, true, false, true, false, false, true});
    REQUIRE(python == std::vector<std::uint8_t>{0, 1, 1, 0, 1});
    const std::vector<NativeRole> native{E, I, O, E, E, I};

    auto folded = merge(native, python);
    CHECK(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{P(0), P(1), N(2), P(2), P(3), P(4)});
}

TEST_CASE("merge keeps every frame when there are more eval loops than Python groups",
          "[native][merge]") {
    // The innermost Python frame was already popped while its eval loop has not returned yet.
    const std::vector<NativeRole> native{E, I, E, I, E, I};
    const std::vector<std::uint8_t> python{1, 1};

    auto folded = merge(native, python);
    CHECK_FALSE(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{P(0), P(1), N(4)});

    auto kept = merge(native, python, true);
    CHECK_FALSE(kept.agreed);
    CHECK(kept.items == std::vector<MergedItem>{P(0), N(1), P(1), N(3), N(4), N(5)});
}

TEST_CASE("merge puts leftover Python frames at the outer end after one marker",
          "[native][merge]") {
    // Fewer eval loops than groups: the unwind stopped inside a frame with no unwind info.
    const std::vector<NativeRole> native{O, E, O};
    const std::vector<std::uint8_t> python{0, 1, 1, 1};

    auto folded = merge(native, python);
    CHECK_FALSE(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{N(0), P(0), P(1), N(2), kUnmerged, P(2), P(3)});
}

TEST_CASE("merge with no eval loop keeps the native frames and appends the Python ones",
          "[native][merge]") {
    const std::vector<std::uint8_t> python{1, 0, 1};

    auto failed_early = merge({O, O}, python);
    CHECK_FALSE(failed_early.agreed);
    CHECK(failed_early.items == std::vector<MergedItem>{N(0), N(1), kUnmerged, P(0), P(1), P(2)});

    auto nothing_native = merge({}, python);
    CHECK_FALSE(nothing_native.agreed);
    CHECK(nothing_native.items == std::vector<MergedItem>{kUnmerged, P(0), P(1), P(2)});
}

TEST_CASE("merge Python -> C -> Python through qsort and libffi", "[native][merge]") {
    // Innermost first: the comparison callback's eval loop, libffi's closure, qsort, libffi's
    // call, _ctypes (an extension: Other), the eval loop running sort_forever and <module>.
    const std::vector<NativeRole> native{E, I, O, O, O, O, I, E, I, I};
    // 3.11-style flags: by_value (entry: called from C), sort_forever, <module> (entry).
    const std::vector<std::uint8_t> python{1, 0, 1};

    auto folded = merge(native, python);
    CHECK(folded.agreed);
    CHECK(folded.items == std::vector<MergedItem>{P(0), N(2), N(3), N(4), N(5), P(1), P(2)});

    auto kept = merge(native, python, true);
    CHECK(kept.agreed);
    CHECK(kept.items == std::vector<MergedItem>{P(0), N(1), N(2), N(3), N(4), N(5), N(6), P(1),
                                                P(2), N(8), N(9)});
}

TEST_CASE("merge without Python frames is a plain native stack", "[native][merge]") {
    auto only_native = merge({O, I, O}, {});
    CHECK(only_native.agreed);
    CHECK(only_native.items == std::vector<MergedItem>{N(0), N(2)});

    auto orphan_eval = merge({O, E}, {});
    CHECK_FALSE(orphan_eval.agreed);
    CHECK(orphan_eval.items == std::vector<MergedItem>{N(0), N(1)});
}

TEST_CASE("merge gives an eval loop every frame left when no entry flag follows",
          "[native][merge]") {
    // A walk truncated at the depth cap has no entry frame at its outer end.
    auto truncated = merge({E, I}, {0, 0, 0});
    CHECK(truncated.agreed);
    CHECK(truncated.items == std::vector<MergedItem>{P(0), P(1), P(2)});
}

TEST_CASE("merge clears the output it reuses", "[native][merge]") {
    std::vector<MergedItem> out{P(7), P(8), N(9)};
    const std::vector<NativeRole> native{O};
    const std::vector<std::uint8_t> python;
    CHECK(merge_stacks(native, python, false, out));
    CHECK(out == std::vector<MergedItem>{N(0)});
}
