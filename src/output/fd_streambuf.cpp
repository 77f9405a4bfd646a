#include "cpuprof/output/fd_streambuf.hpp"

#include <cerrno>
#include <unistd.h>

namespace cpuprof::output {

FdStreamBuf::FdStreamBuf(int fd, std::size_t buffer_size)
    : fd_(fd)
    , buffer_(buffer_size) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
}

FdStreamBuf::~FdStreamBuf() {
    drain();
}

bool FdStreamBuf::write_all(const char* data, std::size_t size) {
    if (error_ != 0) {
        return false;
    }
    while (size > 0) {
        const ssize_t written = ::write(fd_, data, size);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_ = errno;
            return false;
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

bool FdStreamBuf::drain() {
    const auto pending = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return pending == 0 || write_all(buffer_.data(), pending);
}

FdStreamBuf::int_type FdStreamBuf::overflow(int_type ch) {
    if (!drain()) {
        return traits_type::eof();
    }
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
        *pptr() = traits_type::to_char_type(ch);
        pbump(1);
    }
    return traits_type::not_eof(ch);
}

std::streamsize FdStreamBuf::xsputn(const char* data, std::streamsize count) {
    const auto size = static_cast<std::size_t>(count);
    if (size <= static_cast<std::size_t>(epptr() - pptr())) {
        traits_type::copy(pptr(), data, size);
        pbump(static_cast<int>(size));
        return count;
    }
    // Larger than what is left: flush and write straight through rather than copy twice.
    if (!drain() || !write_all(data, size)) {
        return 0;
    }
    return count;
}

int FdStreamBuf::sync() {
    return drain() ? 0 : -1;
}

} // namespace cpuprof::output
