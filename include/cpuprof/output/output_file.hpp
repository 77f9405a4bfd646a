#pragma once

#include "cpuprof/output/fd_streambuf.hpp"
#include "cpuprof/output/format.hpp"
#include "cpuprof/profile/profile.hpp"

#include <memory>
#include <ostream>
#include <string>

namespace cpuprof::output {

/// Checks, before sampling starts, that `path` can be written: its directory exists, is a
/// directory and is writable (a probe file is created and removed there), and the path itself
/// is not a directory. "-" (stdout) always passes. Throws UsageError or OutputError naming the
/// problem and the fix.
void check_output_path(const std::string& path);

/// An output that appears at its final path complete or not at all. It is written to a new
/// temporary file beside the path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644 less the umask) and
/// commit() renames it over the path. rename() replaces a symlink planted at the path instead of
/// following it. Without commit() the destructor removes the temporary file.
class AtomicOutputFile {
  public:
    explicit AtomicOutputFile(std::string path);
    AtomicOutputFile(const AtomicOutputFile&) = delete;
    AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
    AtomicOutputFile(AtomicOutputFile&&) = delete;
    AtomicOutputFile& operator=(AtomicOutputFile&&) = delete;
    ~AtomicOutputFile();

    [[nodiscard]] std::ostream& stream() { return stream_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& temp_path() const noexcept { return temp_path_; }

    /// Flushes, fsyncs and renames the file into place. Throws OutputError (with the path and
    /// errno) when any step fails; the temporary file is then removed by the destructor.
    void commit();

  private:
    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
    bool committed_ = false;
    std::unique_ptr<FdStreamBuf> buffer_;
    std::ostream stream_;
};

/// Writes `profile` in `format` to `path` through an AtomicOutputFile, or to stdout for "-".
/// Throws OutputError when writing fails.
void write_output(const std::string& path, Format format, const profile::Profile& profile);

} // namespace cpuprof::output
