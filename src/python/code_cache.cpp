#include "cpuprof/python/code_cache.hpp"

#include "cpuprof/python/field.hpp"

#include "cpuprof/python/linetable.hpp"
#include "cpuprof/python/unicode.hpp"

#include <cstring>

namespace cpuprof::python {

namespace {

// The longest line table cpuprof will copy; real ones are a few KiB at most.
constexpr std::size_t kMaxLineTable = 1 << 20;

} // namespace

CodeCache::CodeCache(const process::RemoteMemory& memory,
                     const PyOffsets& offsets,
                     RemoteAddr code_type)
    : memory_(memory)
    , offsets_(offsets)
    , code_type_(code_type)
    , header_(static_cast<std::size_t>(offsets.code.size)) {}

std::optional<CodeCache::Fingerprint> CodeCache::read_fingerprint(RemoteAddr address) {
    if (address == 0 || memory_.read(address, header_.data(), header_.size()) != 0) {
        return std::nullopt;
    }
    Fingerprint fp;
    fp.type = field<RemoteAddr>(header_, offsets_.object.ob_type);
    fp.name = field<RemoteAddr>(header_, offsets_.code.name);
    fp.qualname = field<RemoteAddr>(header_, offsets_.code.qualname);
    fp.filename = field<RemoteAddr>(header_, offsets_.code.filename);
    fp.line_table = field<RemoteAddr>(header_, offsets_.code.linetable);
    fp.first_line = field<std::int32_t>(header_, offsets_.code.firstlineno);
    if ((code_type_ != 0 && fp.type != code_type_) || fp.name == 0 || fp.filename == 0) {
        return std::nullopt;
    }
    return fp;
}

const CodeInfo* CodeCache::decode(const Fingerprint& fp) {
    const RemoteAddr name_addr = fp.qualname != 0 ? fp.qualname : fp.name;
    auto name = read_unicode(memory_, offsets_, name_addr);
    auto file = read_unicode(memory_, offsets_, fp.filename);
    if (!name || !file) {
        return nullptr;
    }
    CodeInfo info;
    info.name = std::move(*name);
    info.filename = std::move(*file);
    info.first_line = fp.first_line;
    if (fp.line_table != 0) {
        if (auto table = read_bytes(memory_, offsets_, fp.line_table, kMaxLineTable)) {
            info.line_table.assign(table->begin(), table->end());
        }
    }
    infos_.push_back(std::move(info));
    return &infos_.back();
}

const CodeInfo* CodeCache::get(RemoteAddr address) {
    auto it = entries_.find(address);
    if (it != entries_.end() && it->second.validated_epoch == epoch_) {
        return it->second.info;
    }
    auto fp = read_fingerprint(address);
    if (!fp) {
        return nullptr;
    }
    if (it != entries_.end() && it->second.fingerprint == *fp) {
        it->second.validated_epoch = epoch_;
        return it->second.info;
    }
    const CodeInfo* info = decode(*fp);
    if (info == nullptr) {
        return nullptr;
    }
    entries_.insert_or_assign(address, Entry{*fp, info, epoch_});
    return info;
}

int CodeCache::line_of(const CodeInfo& code, LineTableKind kind, int byte_offset) {
    int line = line_for_offset(kind, code.line_table, code.first_line, byte_offset);
    return line > 0 ? line : code.first_line;
}

} // namespace cpuprof::python
