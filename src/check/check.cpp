// check_file and check_database: the passes in order (see context.h).
#include <algorithm>

#include "check/context.h"
#include "ndb/byte_source.h"
#include "ndb/journal.h"

namespace pstkit::check {

namespace {

constexpr uint32_t kMagic = 0x4E444221;  // "!BDN", MS-PST 2.2.2.6
constexpr size_t kHeaderBytes = 4096;    // enough for every header layout

}  // namespace

Result<Report> run_check(const ndb::Database& db, const CheckOptions& options) {
  Report report;
  FindingSink sink(report, options.max_findings_per_code);
  Bytes head(size_t(std::min<uint64_t>(db.file_size(), kHeaderBytes)));
  if (db.read_raw(0, head.size(), head.data()).is_ok()) check_header(head, db.file_size(), sink);

  Context c(db, options, sink);
  // A pass after a failed temporary file would only read zeros.
  const auto spill_ok = [&c] { return c.spill_status().is_ok(); };
  check_btrees(c);
  check_header_counters(c);
  check_blocks(c);
  if (spill_ok()) check_overlaps(c);
  if (spill_ok()) check_references(c);
  if (spill_ok()) check_maps(c);
  // The pages, extents and the offset order are only the maps' input:
  // freed before the LTP pass, so that its sets do not add to them.
  if (Status s = c.spill_status(); !s.is_ok()) return s;
  c.extents.clear();
  c.blocks_by_offset.clear();
  c.pages.clear();
  // Each pass starts with an empty block cache (see clear_block_cache):
  // what the previous pass cached is mostly not what this one reads.
  c.clear_block_cache();
  if (options.check_ltp) check_ltp(c);
  c.clear_block_cache();
  if (options.check_folders && spill_ok()) check_folders(c);
  if (spill_ok()) check_search_queue(c);
  if (Status s = c.spill_status(); !s.is_ok()) return s;
  return report;
}

Report check_database(const ndb::Database& db, const CheckOptions& options) {
  auto r = run_check(db, options);
  if (r.is_ok()) return std::move(*r);
  // The report would be wrong: one error says why there is none.
  Report report;
  FindingSink sink(report, options.max_findings_per_code);
  sink.add(Issue::kFileUnreadable, "temporary file", kNone, kNone, r.status().message());
  return report;
}

Result<Report> check_file(const std::string& path, const CheckOptions& options) {
  // What is checked is the committed state: with a commit interrupted, the
  // state its journal says readers see (docs/COMMIT_PROTOCOL.md).
  PSTKIT_ASSIGN_OR_RETURN(auto src, ndb::open_committed_file(path, std::chrono::milliseconds(-1)));
  const uint64_t size = src->size();
  Bytes head(size_t(std::min<uint64_t>(size, kHeaderBytes)));
  PSTKIT_RETURN_IF_ERROR(src->read(0, head.size(), head.data()));
  if (head.size() < 4 || load_le32(head.data()) != kMagic) {
    return Status::corrupt("header", 0, "no !BDN signature: not a PST or OST file");
  }
  ndb::Options db_options;
  db_options.cache_bytes = options.cache_bytes;
  auto db = ndb::Database::open(path, db_options);
  if (db.is_ok()) return run_check(**db, options);
  // A file that cannot be read, or is locked (kBusy), is not described as damaged.
  if (db.status().code() == Code::kIoError || db.status().code() == Code::kBusy) return db.status();

  // The reader refuses the header: describe what is wrong with it.
  Report report;
  FindingSink sink(report, options.max_findings_per_code);
  check_header(head, size, sink);
  if (report.errors == 0) {
    // Nothing wrong that the checker can name: an unknown version or
    // encryption is unsupported rather than damaged.
    if (db.status().code() == Code::kUnsupported) return db.status();
    sink.add(Issue::kFileUnreadable, db.status().structure().empty() ? "file" : db.status().structure(),
             db.status().has_offset() ? db.status().offset() : kNone, kNone, db.status().message());
  }
  return report;
}

}  // namespace pstkit::check
