#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/random.h"

namespace lakemesh {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string m(what);
  m += " '" + path + "': " + std::strerror(err);
  if (err == ENOENT) return NotFound(std::move(m));
  if (err == EACCES || err == EPERM) return PermissionDenied(std::move(m));
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(std::move(m));
  return IoError(std::move(m));
}

Status MakeDirs(const std::string& dir, int mode, bool durable) {
  if (dir.empty()) return Status::OK();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return InvalidArgument("'" + dir + "' exists and is not a directory");
  }
  auto slash = dir.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (slash != std::string::npos && slash > 0) LM_TRY(MakeDirs(parent, mode, durable));
  if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0) {
    if (errno == EEXIST) return Status::OK();  // created concurrently; its creator syncs it
    return ErrnoStatus("creating directory", dir, errno);
  }
  return durable ? FsyncDir(parent) : Status::OK();
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening", path, errno);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoStatus("reading", path, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening directory", dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("syncing directory", dir, e);
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string tmp = path + ".tmp-" + RandomHex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("creating", tmp, errno);
  ::fchmod(fd, static_cast<mode_t>(mode));  // not subject to the umask
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("writing", tmp, e);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus("syncing", tmp, e);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("renaming onto", path, e);
  }
  return FsyncDir(dir);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace lakemesh
