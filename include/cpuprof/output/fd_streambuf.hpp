#pragma once

#include <streambuf>
#include <vector>

namespace cpuprof::output {

/// A buffered std::streambuf over a file descriptor it does not own; the descriptor must outlive
/// it, as the destructor writes what is still buffered. A failed write() puts the stream in a
/// failed state and keeps the errno, so the caller can say why.
class FdStreamBuf : public std::streambuf {
  public:
    explicit FdStreamBuf(int fd, std::size_t buffer_size = 64 * 1024);
    FdStreamBuf(const FdStreamBuf&) = delete;
    FdStreamBuf& operator=(const FdStreamBuf&) = delete;
    ~FdStreamBuf() override;

    /// The errno of the first failed write, 0 when none failed.
    [[nodiscard]] int error() const noexcept { return error_; }

  protected:
    int_type overflow(int_type ch) override;
    std::streamsize xsputn(const char* data, std::streamsize count) override;
    int sync() override;

  private:
    bool write_all(const char* data, std::size_t size);
    bool drain();

    int fd_;
    int error_ = 0;
    std::vector<char> buffer_;
};

} // namespace cpuprof::output
