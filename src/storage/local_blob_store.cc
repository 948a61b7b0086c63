#include "storage/local_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/files.h"
#include "base/random.h"

namespace lakemesh::storage {
namespace {

int64_t MtimeMicros(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
}

class LocalWriter final : public BlobWriter {
 public:
  // The temporary file, and its random name, are made by the first write: a small upload that is
  // kept elsewhere (Buckets stores small objects in the metadata) never touches the disk here.
  explicit LocalWriter(std::string root) : root_(std::move(root)) {}
  ~LocalWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (opened_ && !committed_) ::unlink(tmp_path_.c_str());
  }

  Status Append(std::string_view data) override {
    LM_TRY(OpenTemp());
    if (fd_ < 0) return Internal("append to a finished blob writer");
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("writing blob", tmp_path_, errno);
      }
      off += static_cast<size_t>(n);
    }
    size_ += data.size();
    // Start writing back each completed stretch now, so that Commit's fsync finds little left
    // to write and the disk works while the upload is still arriving.
    if (size_ - flushed_ >= kWritebackChunk) {
      uint64_t end = size_ - size_ % kWritebackChunk;
      ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(end - flushed_),
                        SYNC_FILE_RANGE_WRITE);
      flushed_ = end;
    }
    return Status::OK();
  }

  uint64_t size() const override { return size_; }

  Status Commit(const std::string& key) override {
    LM_TRY(ValidateBlobKey(key));
    LM_TRY(OpenTemp());
    if (fd_ < 0) return Internal("blob writer committed twice");
    if (::fsync(fd_) != 0) return ErrnoStatus("syncing blob", tmp_path_, errno);
    ::close(fd_);
    fd_ = -1;
    std::string path = root_ + "/" + key;
    std::string dir = path.substr(0, path.find_last_of('/'));
    LM_TRY(MakeDirs(dir, 0755, /*durable=*/true));
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      // Immutable: keep the existing blob, but restart its garbage-collection grace period.
      ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
      ::unlink(tmp_path_.c_str());
      committed_ = true;
      return Status::OK();
    }
    if (::rename(tmp_path_.c_str(), path.c_str()) != 0) {
      return ErrnoStatus("publishing blob", path, errno);
    }
    committed_ = true;
    return FsyncDir(dir);
  }

 private:
  // The temporary file is created on first use, so a writer never written to costs nothing.
  Status OpenTemp() {
    if (opened_) return Status::OK();
    tmp_path_ = root_ + "/.tmp/" + RandomHex(12);
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return ErrnoStatus("creating blob", tmp_path_, errno);
    opened_ = true;
    return Status::OK();
  }

  static constexpr uint64_t kWritebackChunk = 8 << 20;

  std::string root_;
  std::string tmp_path_;
  int fd_ = -1;
  bool opened_ = false;
  uint64_t size_ = 0;
  uint64_t flushed_ = 0;  // write-back has been started for [0, flushed_)
  bool committed_ = false;
};

class LocalReader final : public BlobReader {
 public:
  LocalReader(int fd, uint64_t offset, uint64_t remaining)
      : fd_(fd), offset_(offset), remaining_(remaining) {}
  ~LocalReader() override { ::close(fd_); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (n > remaining_) n = static_cast<size_t>(remaining_);
    if (n == 0) return size_t{0};
    while (true) {
      ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset_));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("reading blob", "fd", errno);
      }
      if (got == 0) return Internal("blob shorter than its recorded size");
      offset_ += static_cast<uint64_t>(got);
      remaining_ -= static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
  }
  uint64_t remaining() const override { return remaining_; }
  std::optional<std::pair<int, uint64_t>> LocalFile() const override {
    return std::make_pair(fd_, offset_);
  }

 private:
  int fd_;
  uint64_t offset_;
  uint64_t remaining_;
};

Status RemoveTree(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT ? Status::OK() : ErrnoStatus("opening", dir, errno);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      RemoveTree(p).IgnoreError();
      ::rmdir(p.c_str());
    } else {
      ::unlink(p.c_str());
    }
  }
  ::closedir(d);
  return Status::OK();
}

Status Walk(const std::string& root, const std::string& rel,
            const std::function<Status(const BlobInfo&)>& fn) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT ? Status::OK() : ErrnoStatus("listing", dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;  // ., .., .tmp
    names.push_back(std::move(name));
  }
  ::closedir(d);
  for (const auto& name : names) {
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::lstat((root + "/" + r).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      LM_TRY(Walk(root, r, fn));
    } else if (S_ISREG(st.st_mode)) {
      LM_TRY(fn(BlobInfo{r, static_cast<uint64_t>(st.st_size), MtimeMicros(st)}));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::Open(const std::string& root) {
  LM_TRY(MakeDirs(root, 0700, /*durable=*/true));
  std::string tmp = root + "/.tmp";
  LM_TRY(RemoveTree(tmp));  // leftovers of writers interrupted by a crash
  LM_TRY(MakeDirs(tmp, 0700));
  return std::unique_ptr<LocalBlobStore>(new LocalBlobStore(root));
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::NewWriter() {
  return std::unique_ptr<BlobWriter>(new LocalWriter(root_));
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::Open(const std::string& key, uint64_t offset,
                                                         std::optional<uint64_t> length) {
  LM_TRY(ValidateBlobKey(key));
  std::string path = root_ + "/" + key;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("blob '" + key + "' not found");
    return ErrnoStatus("opening blob", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("stat of blob", path, e);
  }
  auto size = static_cast<uint64_t>(st.st_size);
  if (offset > size) {
    ::close(fd);
    return InvalidArgument("offset past the end of blob '" + key + "'");
  }
  uint64_t n = size - offset;
  if (length && *length < n) n = *length;
  return std::unique_ptr<BlobReader>(new LocalReader(fd, offset, n));
}

Result<BlobInfo> LocalBlobStore::Stat(const std::string& key) {
  LM_TRY(ValidateBlobKey(key));
  struct stat st;
  std::string path = root_ + "/" + key;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("blob '" + key + "' not found");
    return ErrnoStatus("stat of blob", path, errno);
  }
  return BlobInfo{key, static_cast<uint64_t>(st.st_size), MtimeMicros(st)};
}

Status LocalBlobStore::Delete(const std::string& key) {
  LM_TRY(ValidateBlobKey(key));
  std::string path = root_ + "/" + key;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return NotFound("blob '" + key + "' not found");
    return ErrnoStatus("deleting blob", path, errno);
  }
  return Status::OK();
}

Status LocalBlobStore::List(const std::string& prefix,
                            const std::function<Status(const BlobInfo&)>& fn) {
  // Walk only the deepest directory the prefix names, then filter.
  std::string dir;
  auto slash = prefix.find_last_of('/');
  if (slash != std::string::npos) dir = prefix.substr(0, slash);
  if (!dir.empty()) LM_TRY(ValidateBlobKey(dir));
  return Walk(root_, dir, [&](const BlobInfo& info) -> Status {
    if (info.key.compare(0, prefix.size(), prefix) != 0) return Status::OK();
    return fn(info);
  });
}

std::optional<std::string> LocalBlobStore::LocalPath(const std::string& key) const {
  if (!ValidateBlobKey(key).ok()) return std::nullopt;
  return root_ + "/" + key;
}

}  // namespace lakemesh::storage
