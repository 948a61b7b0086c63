#include "versioning/object_upload.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/time.h"

namespace lakemesh::versioning {

// Buffers numbered by submission; the hasher and the writer each take them in order. A buffer
// is recycled once both have passed it.
struct ObjectUpload::Pipeline {
  static constexpr uint64_t kMaxInFlight = 4;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> bufs;  // bufs[i] is buffer number base + i; references stay valid
  uint64_t base = 0;
  uint64_t submitted = 0;
  uint64_t hashed = 0;
  uint64_t written = 0;
  bool closing = false;
  Status error;  // GUARDED_BY(mu): the first write error
  std::string spare;
  std::thread hasher;
  std::thread writer;

  // Runs `fn` on every buffer in order until closed; `done` counts what it finished.
  void Stage(uint64_t* done, const std::function<void(const std::string&)>& fn) {
    while (true) {
      const std::string* b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return *done < submitted || closing; });
        if (*done == submitted) return;
        b = &bufs[*done - base];
      }
      fn(*b);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++*done;
      }
      cv.notify_all();
    }
  }
};

ObjectUpload::ObjectUpload(std::unique_ptr<storage::BlobWriter> writer, bool md5, bool sha256)
    : writer_(std::move(writer)) {
  if (md5) md5_.emplace(Hasher::Kind::kMd5);
  if (sha256) sha_.emplace(Hasher::Kind::kSha256);
  pending_.reserve(kBufferSize);
}

ObjectUpload::~ObjectUpload() {
  if (pipe_) {
    {
      std::lock_guard<std::mutex> lock(pipe_->mu);
      pipe_->closing = true;
    }
    pipe_->cv.notify_all();
    pipe_->hasher.join();
    pipe_->writer.join();
  }
}

Status ObjectUpload::Submit() {
  if (!pipe_) {
    pipe_ = std::make_unique<Pipeline>();
    Pipeline* p = pipe_.get();
    p->hasher = std::thread([this, p] {
      p->Stage(&p->hashed, [this](const std::string& b) {
        if (md5_) md5_->Update(b);
        if (sha_) sha_->Update(b);
      });
    });
    p->writer = std::thread([this, p] {
      p->Stage(&p->written, [this, p](const std::string& b) {
        {
          std::lock_guard<std::mutex> lock(p->mu);
          if (!p->error.ok()) return;  // keep draining after a failure
        }
        Status st = writer_->Append(b);
        if (!st.ok()) {
          std::lock_guard<std::mutex> lock(p->mu);
          p->error = st;
        }
      });
    });
  }
  Pipeline& p = *pipe_;
  std::unique_lock<std::mutex> lock(p.mu);
  p.cv.wait(lock, [&] { return p.submitted - std::min(p.hashed, p.written) < Pipeline::kMaxInFlight; });
  if (!p.error.ok()) return p.error;
  while (p.base < std::min(p.hashed, p.written)) {
    p.spare = std::move(p.bufs.front());
    p.bufs.pop_front();
    ++p.base;
  }
  p.bufs.push_back(std::move(pending_));
  ++p.submitted;
  pending_ = std::move(p.spare);
  pending_.clear();
  pending_.reserve(kBufferSize);
  lock.unlock();
  p.cv.notify_all();
  return Status::OK();
}

Status ObjectUpload::Append(std::string_view data) {
  if (digests_) return Internal("append to a finished upload");
  if (!write_error_.ok()) return write_error_;
  size_ += data.size();
  while (!data.empty()) {
    size_t n = std::min(data.size(), kBufferSize - pending_.size());
    pending_.append(data.data(), n);
    data.remove_prefix(n);
    if (pending_.size() == kBufferSize) LM_TRY(Submit());
  }
  return Status::OK();
}

Result<ObjectUpload::Digests> ObjectUpload::Finish() {
  if (digests_) return *digests_;
  if (pipe_) {
    if (!pending_.empty()) LM_TRY(Submit());
    {
      std::lock_guard<std::mutex> lock(pipe_->mu);
      pipe_->closing = true;
    }
    pipe_->cv.notify_all();
    pipe_->hasher.join();
    pipe_->writer.join();
    write_error_ = pipe_->error;
    pipe_.reset();
  } else {
    // Small: hash now, write at Commit (if ever).
    if (md5_) md5_->Update(pending_);
    if (sha_) sha_->Update(pending_);
  }
  LM_TRY(write_error_);
  Digests d;
  if (md5_) d.md5_hex = ToHex(md5_->Finish());
  if (sha_) d.sha256_hex = ToHex(sha_->Finish());
  digests_ = std::move(d);
  return *digests_;
}

Status ObjectUpload::Commit(const std::string& key) {
  LM_TRY(Finish().status());
  if (!pending_.empty()) {
    LM_TRY(writer_->Append(pending_));
    pending_.clear();
    pending_.shrink_to_fit();
  }
  return writer_->Commit(key);
}

Status ObjectUpload::AppendFrom(storage::BlobReader& reader) {
  std::string buf(1 << 20, '\0');
  while (true) {
    LM_ASSIGN_OR_RETURN(size_t n, reader.Read(buf.data(), buf.size()));
    if (n == 0) return Status::OK();
    LM_TRY(Append(std::string_view(buf.data(), n)));
  }
}

Entry ObjectUpload::MakeEntry(std::string address, const PutOptions& opts) const {
  Entry e;
  e.address = std::move(address);
  e.size = size_;
  e.etag = opts.etag.empty() && digests_ ? digests_->md5_hex : opts.etag;
  e.mtime_micros = NowMicros();
  e.content_type = opts.content_type;
  e.metadata = opts.metadata;
  e.headers = opts.headers;
  return e;
}

const std::string* ObjectUpload::InMemory() const {
  if (!digests_ || size_ != pending_.size()) return nullptr;
  return &pending_;
}

}  // namespace lakemesh::versioning
