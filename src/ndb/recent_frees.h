// Space that recent commits freed, kept from reuse for a while by every
// writer of the file, whichever process it runs in (docs/COMMIT_PROTOCOL.md,
// "Readers that take no lock").
//
// A reader without pstkit's locks (libpff, readpst, Outlook) that read the
// header before a commit goes on reading the blocks and pages of that older
// state. If a writer reused the space that commit freed, such a reader would
// find other data where its B-tree points (libpff: "mismatch in data size").
// So freed space stays unused for a quiet time (WriterOptions, 10 s) after
// the commit that freed it, by its own writer and by the next ones: each commit's frees are
// recorded in a small file in /dev/shm named after the data file's device
// and inode, read and written only under the file's writer lock. Without
// that file (no /dev/shm, another user's file, a damaged or foreign one) a
// writer still keeps its own frees from reuse, as before.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pstkit::ndb {

class RecentFrees {
 public:
  using Extent = std::pair<uint64_t, uint64_t>;  // offset, size

  RecentFrees() = default;
  // For the data file at path; the shared record is found (or made) on
  // first use.
  RecentFrees(std::string data_path, std::chrono::milliseconds quiet_time)
      : data_path_(std::move(data_path)), quiet_ms_(quiet_time.count()) {}

  // Reads the shared record; called when the writer lock has just been
  // taken. Returns the extents freed less than the quiet time ago, by any
  // writer.
  std::vector<Extent> load();
  // For a file just created: nothing of it was ever freed. Drops any record
  // left under the same device and inode by a deleted file (inode numbers
  // are reused at once), which would otherwise keep its space quiet.
  void forget();
  // Records extents a commit has just freed (forgetting expired ones) and
  // returns every extent still quiet.
  std::vector<Extent> add(const std::vector<Extent>& freed);
  // The extents still quiet, from what load and add saw: no I/O (the shared
  // record changes only under the writer lock, which the caller holds).
  std::vector<Extent> quiet() const;
  // The shared record for data_path, or "" when there can be none.
  static std::string record_path(const std::string& data_path);

 private:
  struct Record {
    uint64_t offset, size;
    int64_t freed_ms;  // CLOCK_MONOTONIC, as every process on the machine sees it
  };
  std::vector<Record> read_shared() const;
  void write_shared(const std::vector<Record>& records) const;

  std::string data_path_;
  std::string record_path_;  // resolved by load; "" when there is none
  int64_t quiet_ms_ = 0;
  std::vector<Record> records_;  // every writer's, this one's included
};

}  // namespace pstkit::ndb
