#include "xml_check.hpp"

#include <cctype>
#include <fmt/format.h>
#include <set>
#include <vector>

namespace cpuprof::test {

namespace {

class Checker {
  public:
    explicit Checker(std::string_view doc)
        : doc_(doc) {}

    std::string run() {
        if (auto e = characters(); !e.empty()) {
            return e;
        }
        bool seen_root = false;
        while (pos_ < doc_.size()) {
            std::string e;
            if (starts("<?")) {
                e = skip_until("?>");
            } else if (starts("<!--")) {
                e = skip_until("-->");
            } else if (starts("<![CDATA[")) {
                if (open_.empty()) {
                    return error("CDATA outside the root element");
                }
                e = skip_until("]]>");
            } else if (starts("<!")) {
                return error("DTD declarations are not expected");
            } else if (starts("</")) {
                e = end_tag();
            } else if (starts("<")) {
                if (open_.empty() && seen_root) {
                    return error("a second root element");
                }
                seen_root = true;
                e = start_tag();
            } else {
                e = text();
            }
            if (!e.empty()) {
                return e;
            }
        }
        if (!open_.empty()) {
            return error(fmt::format("<{}> is never closed", open_.back()));
        }
        return seen_root ? "" : error("no root element");
    }

  private:
    std::string error(const std::string& what) const {
        return fmt::format("offset {}: {}", pos_, what);
    }
    bool starts(std::string_view prefix) const { return doc_.substr(pos_).starts_with(prefix); }

    std::string characters() {
        for (std::size_t i = 0; i < doc_.size();) {
            const auto c = static_cast<unsigned char>(doc_[i]);
            std::size_t len = c < 0x80             ? 1
                              : (c & 0xE0) == 0xC0 ? 2
                              : (c & 0xF0) == 0xE0 ? 3
                              : (c & 0xF8) == 0xF0 ? 4
                                                   : 0;
            if (len == 0 || i + len > doc_.size()) {
                pos_ = i;
                return error("invalid UTF-8");
            }
            for (std::size_t k = 1; k < len; ++k) {
                if ((static_cast<unsigned char>(doc_[i + k]) & 0xC0) != 0x80) {
                    pos_ = i;
                    return error("invalid UTF-8 continuation");
                }
            }
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                pos_ = i;
                return error(fmt::format("control character {:#x}", c));
            }
            i += len;
        }
        return "";
    }

    std::string skip_until(std::string_view end) {
        const auto found = doc_.find(end, pos_);
        if (found == std::string_view::npos) {
            return error(fmt::format("missing '{}'", end));
        }
        pos_ = found + end.size();
        return "";
    }

    std::string name() {
        const std::size_t start = pos_;
        while (pos_ < doc_.size()) {
            const char c = doc_[pos_];
            const bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
                            (pos_ > start &&
                             (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'));
            if (!ok) {
                break;
            }
            ++pos_;
        }
        return std::string(doc_.substr(start, pos_ - start));
    }

    void spaces() {
        while (pos_ < doc_.size() && std::isspace(static_cast<unsigned char>(doc_[pos_]))) {
            ++pos_;
        }
    }

    // At '&': a predefined entity or a character reference.
    std::string reference() {
        const auto semicolon = doc_.find(';', pos_);
        if (semicolon == std::string_view::npos || semicolon - pos_ > 10) {
            return error("'&' that does not start a reference");
        }
        const std::string_view ref = doc_.substr(pos_ + 1, semicolon - pos_ - 1);
        static const std::set<std::string_view> kNamed{"amp", "lt", "gt", "quot", "apos"};
        bool ok = kNamed.contains(ref);
        if (!ok && ref.size() > 1 && ref[0] == '#') {
            const bool hex = ref[1] == 'x';
            const std::string_view digits = ref.substr(hex ? 2 : 1);
            ok = !digits.empty();
            for (char c : digits) {
                ok = ok && (hex ? std::isxdigit(static_cast<unsigned char>(c))
                                : std::isdigit(static_cast<unsigned char>(c)));
            }
        }
        if (!ok) {
            return error(fmt::format("unknown reference &{};", ref));
        }
        pos_ = semicolon + 1;
        return "";
    }

    std::string start_tag() {
        ++pos_;
        const std::string tag = name();
        if (tag.empty()) {
            return error("'<' not followed by a name");
        }
        std::set<std::string> attributes;
        for (;;) {
            const std::size_t before = pos_;
            spaces();
            if (starts("/>")) {
                pos_ += 2;
                return "";
            }
            if (starts(">")) {
                ++pos_;
                open_.push_back(tag);
                return "";
            }
            if (pos_ == before) {
                return error(fmt::format("attributes of <{}> must be separated by spaces", tag));
            }
            const std::string attribute = name();
            if (attribute.empty()) {
                return error(fmt::format("bad attribute in <{}>", tag));
            }
            if (!attributes.insert(attribute).second) {
                return error(fmt::format("duplicate attribute {} in <{}>", attribute, tag));
            }
            spaces();
            if (!starts("=")) {
                return error(fmt::format("attribute {} without a value", attribute));
            }
            ++pos_;
            spaces();
            if (pos_ >= doc_.size() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) {
                return error(fmt::format("unquoted value of {}", attribute));
            }
            const char quote = doc_[pos_++];
            while (pos_ < doc_.size() && doc_[pos_] != quote) {
                if (doc_[pos_] == '<') {
                    return error(fmt::format("'<' in the value of {}", attribute));
                }
                if (doc_[pos_] == '&') {
                    if (auto e = reference(); !e.empty()) {
                        return e;
                    }
                } else {
                    ++pos_;
                }
            }
            if (pos_ >= doc_.size()) {
                return error(fmt::format("unterminated value of {}", attribute));
            }
            ++pos_;
        }
    }

    std::string end_tag() {
        pos_ += 2;
        const std::string tag = name();
        spaces();
        if (!starts(">")) {
            return error(fmt::format("malformed </{}>", tag));
        }
        ++pos_;
        if (open_.empty() || open_.back() != tag) {
            return error(
                fmt::format("</{}> does not close <{}>", tag, open_.empty() ? "" : open_.back()));
        }
        open_.pop_back();
        return "";
    }

    std::string text() {
        while (pos_ < doc_.size() && doc_[pos_] != '<') {
            if (open_.empty() && !std::isspace(static_cast<unsigned char>(doc_[pos_]))) {
                return error("text outside the root element");
            }
            if (starts("]]>")) {
                return error("']]>' in text");
            }
            if (doc_[pos_] == '&') {
                if (auto e = reference(); !e.empty()) {
                    return e;
                }
            } else {
                ++pos_;
            }
        }
        return "";
    }

    std::string_view doc_;
    std::size_t pos_ = 0;
    std::vector<std::string> open_;
};

} // namespace

std::string xml_wellformedness_error(std::string_view document) {
    return Checker(document).run();
}

std::string xml_unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out.push_back(text[i]);
            continue;
        }
        const auto semicolon = text.find(';', i);
        const std::string_view ref = text.substr(i + 1, semicolon - i - 1);
        if (ref == "amp") {
            out.push_back('&');
        } else if (ref == "lt") {
            out.push_back('<');
        } else if (ref == "gt") {
            out.push_back('>');
        } else if (ref == "quot") {
            out.push_back('"');
        } else if (ref == "apos") {
            out.push_back('\'');
        } else {
            out.append(text.substr(i, semicolon - i + 1));
        }
        i = semicolon;
    }
    return out;
}

} // namespace cpuprof::test
