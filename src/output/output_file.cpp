#include "cpuprof/output/output_file.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/output/writer.hpp"
#include "output/writers.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace cpuprof::output {

namespace {

struct PathParts {
    std::string directory;
    std::string file;
};

PathParts split(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return {".", path};
    }
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

struct TempFile {
    int fd;
    std::string path;
};

// A new file beside the final path, so that rename() stays within one filesystem. O_EXCL and
// O_NOFOLLOW make sure it is ours and not something planted under a guessed name.
TempFile create_temp_beside(const PathParts& parts, const std::string& for_path) {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    int err = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string temp =
            fmt::format("{}/.{}.{}-{:016x}.tmp", parts.directory, parts.file, ::getpid(), random());
        const int fd =
            ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            return {fd, std::move(temp)};
        }
        err = errno;
        if (err != EEXIST) {
            break;
        }
    }
    throw OutputError(fmt::format("cannot create a file in {} for output {}: {}; choose a writable "
                                  "directory with -o",
                                  parts.directory, for_path, std::strerror(err)));
}

[[noreturn]] void fail(const std::string& step, const std::string& path, int err) {
    throw OutputError(fmt::format("{} {} failed: {}; free space on that filesystem or choose "
                                  "another -o path",
                                  step, path, std::strerror(err)));
}

} // namespace

void check_output_path(const std::string& path) {
    if (path == "-") {
        return;
    }
    if (path.empty()) {
        throw UsageError("the output path is empty: pass -o FILE, or -o - for stdout");
    }
    struct stat st {};
    if (path.back() == '/' || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
        throw UsageError(fmt::format("output path {} is a directory: name a file in it, e.g. "
                                     "-o {}/profile.svg, or use --output-dir",
                                     path,
                                     path.back() == '/' ? path.substr(0, path.size() - 1) : path));
    }
    const PathParts parts = split(path);
    if (::stat(parts.directory.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT) {
            throw UsageError(fmt::format("the directory {} of output path {} does not exist: "
                                         "create it (mkdir -p {}) or choose another -o path",
                                         parts.directory, path, parts.directory));
        }
        if (err != ENOTDIR) {
            throw OutputError(fmt::format("cannot access the directory {} of output path {}: {}; "
                                          "choose another -o path",
                                          parts.directory, path, std::strerror(err)));
        }
        st.st_mode = 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        throw UsageError(fmt::format("{} in output path {} is not a directory: choose another -o "
                                     "path",
                                     parts.directory, path));
    }
    if (::access(parts.directory.c_str(), W_OK | X_OK) != 0) {
        throw OutputError(fmt::format("the directory {} of output path {} is not writable: {}; "
                                      "choose a writable directory or fix its permissions",
                                      parts.directory, path, std::strerror(errno)));
    }
    // access() says yes to root on a read-only mount, and knows nothing of quotas: really create
    // a file there.
    const TempFile probe = create_temp_beside(parts, path);
    ::close(probe.fd);
    ::unlink(probe.path.c_str());
}

AtomicOutputFile::AtomicOutputFile(std::string path)
    : path_(std::move(path))
    , stream_(nullptr) {
    TempFile temp = create_temp_beside(split(path_), path_);
    fd_ = temp.fd;
    temp_path_ = std::move(temp.path);
    buffer_ = std::make_unique<FdStreamBuf>(fd_);
    stream_.rdbuf(buffer_.get());
}

AtomicOutputFile::~AtomicOutputFile() {
    // The buffer writes what it still holds: let it do so while the descriptor is open.
    stream_.rdbuf(nullptr);
    buffer_.reset();
    if (fd_ >= 0) {
        ::close(fd_);
    }
    if (!committed_) {
        ::unlink(temp_path_.c_str());
    }
}

void AtomicOutputFile::commit() {
    if (committed_) {
        return;
    }
    stream_.flush();
    if (!stream_ || buffer_->error() != 0) {
        fail("writing", path_, buffer_->error() != 0 ? buffer_->error() : EIO);
    }
    if (::fsync(fd_) != 0) {
        fail("syncing", path_, errno);
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        fail("closing", path_, errno);
    }
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        fail("renaming the output into place at", path_, errno);
    }
    committed_ = true;
    // Make the rename itself durable; the data is already safe, so a failure here is not fatal.
    const int dir = ::open(split(path_).directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void write_output(const std::string& path, Format format, const profile::Profile& profile) {
    if (path == "-") {
        write_profile(profile, format, std::cout);
        return;
    }
    AtomicOutputFile file(path);
    write_unchecked(profile, format, file.stream());
    file.commit();
}

} // namespace cpuprof::output
