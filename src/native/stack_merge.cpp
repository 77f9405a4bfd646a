#include "cpuprof/native/stack_merge.hpp"

namespace cpuprof::native {

bool merge_stacks(std::span<const NativeRole> native,
                  std::span<const std::uint8_t> python_is_entry,
                  bool keep_internal,
                  std::vector<MergedItem>& out) {
    out.clear();
    bool agreed = true;
    std::size_t next_python = 0;
    const std::size_t python_count = python_is_entry.size();
    for (std::size_t i = 0; i < native.size(); ++i) {
        const auto native_index = static_cast<std::uint32_t>(i);
        switch (native[i]) {
        case NativeRole::Other:
            out.push_back({MergedItem::Kind::Native, native_index});
            break;
        case NativeRole::Interpreter:
            if (keep_internal) {
                out.push_back({MergedItem::Kind::Native, native_index});
            }
            break;
        case NativeRole::EvalLoop:
            if (next_python == python_count) {
                // An eval loop whose Python frames are already gone (typically the innermost
                // one, between popping its frame and returning): keep it, so the mismatch shows.
                agreed = false;
                out.push_back({MergedItem::Kind::Native, native_index});
                break;
            }
            while (next_python < python_count) {
                const bool entry = python_is_entry[next_python] != 0;
                out.push_back({MergedItem::Kind::Python, static_cast<std::uint32_t>(next_python)});
                ++next_python;
                if (entry) {
                    break;
                }
            }
            break;
        }
    }
    if (next_python < python_count) {
        agreed = false;
        out.push_back({MergedItem::Kind::Unmerged, 0});
        for (; next_python < python_count; ++next_python) {
            out.push_back({MergedItem::Kind::Python, static_cast<std::uint32_t>(next_python)});
        }
    }
    return agreed;
}

} // namespace cpuprof::native
