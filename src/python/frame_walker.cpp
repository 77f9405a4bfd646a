#include "cpuprof/python/frame_walker.hpp"

#include "cpuprof/python/field.hpp"

#include <cstring>

namespace cpuprof::python {

FrameWalker::FrameWalker(const process::RemoteMemory& memory,
                         const PyOffsets& offsets,
                         CodeCache& codes)
    : memory_(memory)
    , offsets_(offsets)
    , codes_(codes)
    , frame_(static_cast<std::size_t>(offsets.frame.size)) {}

int FrameWalker::line_of(const CodeInfo& code, int byte_offset) {
    // Real programs touch a few thousand (code, offset) pairs; the cap only guards memory
    // against a target that keeps generating code.
    constexpr std::size_t kMaxLines = 1 << 20;
    const LineKey key{&code, byte_offset};
    if (auto it = lines_.find(key); it != lines_.end()) {
        return it->second;
    }
    if (lines_.size() >= kMaxLines) {
        lines_.clear();
    }
    const int line = CodeCache::line_of(code, offsets_.line_table, byte_offset);
    lines_.emplace(key, line);
    return line;
}

std::span<const std::byte> FrameWalker::read_frame(RemoteAddr address) {
    // Read in place when the memory holds the frame already (the block cache a sampler reads
    // through): no copy. Every field is taken from it before the next read (a code object's).
    if (const std::byte* bytes = memory_.view(address, frame_.size())) {
        return {bytes, frame_.size()};
    }
    if (memory_.read(address, frame_.data(), frame_.size()) != 0) {
        return {};
    }
    return frame_;
}

ReadStatus FrameWalker::walk(RemoteAddr top, std::vector<PyFrame>& out, bool& truncated) {
    out.clear();
    truncated = false;
    const bool interpreter_frames = offsets_.frame_model != FrameModel::FrameObject;
    // Brent's cycle detection: compare each address with a saved one, re-saved at powers of two.
    RemoteAddr saved = 0;
    std::size_t power = 1;
    std::size_t steps = 0;

    for (RemoteAddr address = top; address != 0;) {
        if (address == saved) {
            return ReadStatus::Torn;
        }
        if (++steps == power) {
            saved = address;
            power *= 2;
        }
        if (steps > kMaxDepth * 2) {
            truncated = true;
            break;
        }
        const std::span<const std::byte> frame = read_frame(address);
        if (frame.empty()) {
            return ReadStatus::Failed;
        }
        const RemoteAddr previous = field<RemoteAddr>(frame, offsets_.frame.previous);
        const RemoteAddr code_addr = field<RemoteAddr>(frame, offsets_.frame.code);

        if (interpreter_frames && offsets_.shim_owner >= 0 &&
            field<std::uint8_t>(frame, offsets_.frame.owner) == offsets_.shim_owner) {
            // The shim frame a C call pushes below the frames of one eval-loop invocation.
            if (!out.empty()) {
                out.back().is_entry = true;
            }
            address = previous;
            continue;
        }
        if (code_addr == 0) { // 3.13+: a base frame without an executable
            address = previous;
            continue;
        }
        int byte_offset = -1;
        bool is_entry = true;
        if (!interpreter_frames) {
            const int lasti = field<std::int32_t>(frame, offsets_.frame.lasti);
            byte_offset = lasti;
            if (offsets_.line_table == LineTableKind::Linetable && lasti >= 0) {
                // 3.10 counts code units; a garbage count must not overflow the doubling.
                byte_offset = lasti < (1 << 29) ? lasti * 2 : -1;
            }
        } else {
            const RemoteAddr instr = field<RemoteAddr>(frame, offsets_.frame.instr_ptr);
            const RemoteAddr start =
                code_addr + static_cast<RemoteAddr>(offsets_.code.code_adaptive);
            byte_offset =
                instr >= start && instr - start < (1U << 30) ? static_cast<int>(instr - start) : -1;
            if (offsets_.frame.is_entry >= 0) {
                is_entry = field<std::uint8_t>(frame, offsets_.frame.is_entry) != 0;
            } else {
                is_entry = false; // set when the shim below this frame is reached
            }
        }

        const FrameMemoKey key{code_addr, byte_offset, codes_.epoch()};
        FrameMemo known;
        if (const FrameMemo* memo = memo_.find(key)) {
            known = *memo;
        } else {
            known.code = codes_.get(code_addr);
            if (known.code != nullptr) {
                known.line = line_of(*known.code, byte_offset);
                memo_.put(key, known);
            }
        }
        if (known.code == nullptr) {
            // 3.13+: f_executable may legitimately be something other than a code object.
            if (offsets_.frame_model == FrameModel::CurrentFrame) {
                address = previous;
                continue;
            }
            return ReadStatus::Failed;
        }
        if (out.size() >= kMaxDepth) {
            truncated = true;
            break;
        }
        out.push_back(PyFrame{known.code, known.line, is_entry});
        address = previous;
    }
    return ReadStatus::Ok;
}

} // namespace cpuprof::python
