// An in-memory file system that simulates crashes, for the crash tests.
//
// Every write and every sync is an event. At the chosen event the "machine
// crashes": the event does not complete (a write may be torn: only a prefix
// lands), and every later operation fails. What a crash leaves on disk is
// modelled per file as the synced contents plus some of the writes made
// since the last sync: none of them, all of them, or all but a torn last one
// (the cases a real disk can produce for data that was never synced).
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/env.h"

namespace pstkit::testing {

class FaultEnv : public Env {
 public:
  // kRandomSubset: each unsynced write survives or not by a coin toss, as a
  // disk that reorders writes can leave them.
  enum class Survival { kNoUnsynced, kAllUnsynced, kTornLast, kRandomSubset };

  struct Write {
    uint64_t offset;
    Bytes data;
  };
  struct FileState {
    Bytes synced;               // contents as of the last sync
    uint64_t synced_size = 0;
    Bytes current;              // contents as the process sees them
    std::vector<Write> unsynced;  // writes since the last sync, in order
  };

  // Crash at event number crash_at (0-based); -1 never crashes.
  void arm(int64_t crash_at, bool tear_crash_write) {
    crash_at_ = crash_at;
    tear_ = tear_crash_write;
    events_ = 0;
    crashed_ = false;
  }
  int64_t events() const { return events_; }
  bool crashed() const { return crashed_; }

  void put_file(const std::string& path, Bytes data) {
    FileState f;
    f.synced = data;
    f.synced_size = data.size();
    f.current = std::move(data);
    files_[path] = std::move(f);
  }
  std::map<std::string, FileState>& files() { return files_; }

  // The disk after the crash, per survival model.
  std::map<std::string, Bytes> disk_after_crash(Survival survival, uint32_t seed = 1) const {
    std::map<std::string, Bytes> out;
    uint32_t rng = seed * 2654435761u + 1;
    for (const auto& [path, f] : files_) {
      Bytes b = f.synced;
      b.resize(f.synced_size);
      size_t n = survival == Survival::kNoUnsynced ? 0 : f.unsynced.size();
      for (size_t i = 0; i < n; ++i) {
        const Write& w = f.unsynced[i];
        if (survival == Survival::kRandomSubset) {
          rng = rng * 1664525u + 1013904223u;
          if ((rng >> 16) & 1) continue;
        }
        size_t len = w.data.size();
        if (survival == Survival::kTornLast && i + 1 == n) len = std::min<size_t>(len, 512) / 2;
        if (b.size() < w.offset + len) b.resize(w.offset + len);
        std::memcpy(b.data() + w.offset, w.data.data(), len);
      }
      out[path] = std::move(b);
    }
    return out;
  }

  Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) override;
  bool exists(const std::string& path) override { return files_.count(path) > 0; }
  Status remove(const std::string& path) override {
    if (Status s = event(); !s.is_ok()) return s;
    files_.erase(path);
    return Status::ok();
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (Status s = event(); !s.is_ok()) return s;
    auto it = files_.find(from);
    if (it == files_.end()) return Status::io_error(from + ": no such file");
    files_[to] = std::move(it->second);
    files_.erase(from);
    return Status::ok();
  }
  Status sync_dir_of(const std::string&) override { return event(); }

  // Counts one event; fails once the crash point is reached.
  Status event() {
    if (crashed_) return Status::io_error("simulated crash");
    if (crash_at_ >= 0 && events_ == crash_at_) {
      crashed_ = true;
      return Status::io_error("simulated crash");
    }
    ++events_;
    return Status::ok();
  }
  bool tear() const { return tear_; }

 private:
  std::map<std::string, FileState> files_;
  int64_t crash_at_ = -1;
  int64_t events_ = 0;
  bool crashed_ = false;
  bool tear_ = false;
};

class FaultFile : public WritableFile {
 public:
  FaultFile(FaultEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  FaultEnv::FileState& state() { return env_->files()[path_]; }
  const FaultEnv::FileState& state() const { return env_->files()[path_]; }

  uint64_t size() const override { return state().current.size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    const Bytes& c = state().current;
    if (offset > c.size() || len > c.size() - offset) return Status::truncated("file", offset, "short read");
    if (len) std::memcpy(out, c.data() + offset, len);
    return Status::ok();
  }
  Status write(uint64_t offset, ByteView data) override {
    const bool at_crash = !env_->crashed();
    Status s = env_->event();
    if (!s.is_ok()) {
      // The crashing write itself may land partly (a torn write).
      if (at_crash && env_->crashed() && env_->tear() && data.size() > 1) {
        apply(offset, data.sub(0, std::min<size_t>(data.size(), 512) / 2));
      }
      return s;
    }
    apply(offset, data);
    return Status::ok();
  }
  Status sync() override {
    PSTKIT_RETURN_IF_ERROR(env_->event());
    auto& st = state();
    st.synced = st.current;
    st.synced_size = st.current.size();
    st.unsynced.clear();
    return Status::ok();
  }
  Status truncate(uint64_t size) override {
    PSTKIT_RETURN_IF_ERROR(env_->event());
    auto& st = state();
    st.current.resize(size);
    // Modelled as durable at once (metadata), with the unsynced writes kept.
    st.synced.resize(size);
    st.synced_size = size;
    return Status::ok();
  }

 private:
  void apply(uint64_t offset, ByteView data) {
    auto& st = state();
    if (st.current.size() < offset + data.size()) st.current.resize(offset + data.size());
    std::memcpy(st.current.data() + offset, data.data(), data.size());
    st.unsynced.push_back({offset, data.to_bytes()});
  }

  FaultEnv* env_;
  std::string path_;
};

inline Result<std::unique_ptr<WritableFile>> FaultEnv::open(const std::string& path, OpenMode mode) {
  auto it = files_.find(path);
  if (mode == OpenMode::kExisting && it == files_.end()) return Status::io_error(path + ": no such file");
  if (mode == OpenMode::kCreateNew && it != files_.end()) return Status::io_error(path + ": exists");
  if (it == files_.end() || mode == OpenMode::kCreateOrTruncate) {
    if (Status s = event(); !s.is_ok()) return s;
    files_[path] = FileState{};
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultFile>(this, path));
}

}  // namespace pstkit::testing
