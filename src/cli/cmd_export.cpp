// pstkit export FILE... -o DIR --format eml|mbox|maildir|thunderbird|msg:
// every item converted to RFC 5322 (pstkit/eml_export.h), or to an Outlook
// .msg file (pstkit/msg_export.h) for msg, and written in the
// format's layout (export_writers.h), which mirrors the folders, and
// manifest.json saying, per folder, what was found, exported and not, with
// the SHA-256 of every file written. Items are rendered on --jobs worker
// threads and taken by this thread in item order (ordered_workers.h), so
// the output does not depend on the number of jobs: the workers also write
// the formats with a file per item (and Maildir's) and make mailbox text,
// this thread appends to mailboxes and enters the files in the manifest
// and the journal (export_journal.h, for --resume) in item order.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "cli/cli.h"
#include "cli/export_journal.h"
#include "cli/export_writers.h"
#include "cli/folder_walk.h"
#include "cli/item_type.h"
#include "cli/ordered_workers.h"
#include "cli/progress.h"
#include "cli/sha256.h"
#include "pstkit/eml_export.h"
#include "pstkit/ical_export.h"
#include "pstkit/msg_export.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

bool directory_is_empty(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

// Whether a format appends a folder's items to one mailbox file (which is
// complete only when the folder is) rather than writing a file per item.
bool appends_to_mailbox(const std::string& format) { return format == "mbox" || format == "thunderbird"; }

// One item as a worker thread rendered it, for the writer to write.
struct RenderedItem {
  enum class Outcome {
    kRendered,  // data (and beside) to write
    kReused,    // --resume: the journal's files are there and intact
    kFailed,    // failure says why
    kFiltered,  // not one of the --type types
    kNoForm,    // ics / vcf: an item of another type
  };
  Outcome outcome = Outcome::kFailed;
  Nid nid = 0;  // the item's, from its contents table row
  std::optional<Message> message;
  std::string failure;
  Bytes data;                    // the item's file (eml, msg, ics, vcf) or mailbox entry
  std::string prepared;          // mbox, Thunderbird: the mailbox text (FolderSink::prepare)
  bool is_prepared = false;
  std::string beside_extension;  // eml: the .ics or .vcf beside the .eml, if any
  Bytes beside;
  // Formats with a file per item: the worker wrote them (data and beside
  // are then empty), or write_error says why it could not.
  std::vector<ExportedFile> written;
  std::string write_error;
  bool write_pending = false;  // rendered, to be written by Exporter::write_rendered
  std::vector<std::string> notes;  // parts left out
  const JournalItem* reused = nullptr;
};

// A folder selected for export, found by the first walk over the tree.
struct FolderPlan {
  Nid nid = 0;
  std::string display_path;
  FolderPlace place;
  bool readable = false;  // the walk could open it; else `error` says why
  std::string error;
  size_t content_count = 0;  // PR_CONTENT_COUNT, for the progress bar's total
};

// Whether every file exists with the SHA-256 the journal recorded.
bool files_intact(const fs::path& out, const std::vector<JournalFile>& files) {
  for (const auto& [path, sha] : files) {
    Status s;
    if (sha.empty() || sha256_file_hex((out / path).string(), &s) != sha || !s.is_ok()) return false;
  }
  return true;
}

class Exporter {
 public:
  Exporter(const ExportCommandOptions& options, nlohmann::ordered_json& manifest, ManifestFiles& files,
           unsigned type_mask, OrderedWorkers<RenderedItem>& workers, ProgressBar& progress, ExportJournal* journal)
      : options_(options),
        manifest_(manifest),
        files_(files),
        type_mask_(type_mask),
        workers_(workers),
        progress_(progress),
        journal_(journal),
        resuming_(options.resume) {
    if (const char* stop = std::getenv("PSTKIT_TEST_EXPORT_KILL_AFTER")) kill_after_ = std::strtoull(stop, nullptr, 10);
    // Test-only: a lower threshold, so that the corpus's attachments stream.
    if (const char* above = std::getenv("PSTKIT_TEST_STREAM_ABOVE")) stream_above_ = std::strtoull(above, nullptr, 10);
  }

  // The folders of a store to export, in the order they are written: the
  // tree depth first, parents first, restricted by --folder.
  std::vector<FolderPlan> plan(const Store& store, const fs::path& base, nlohmann::ordered_json& source) {
    layout_ = ExportLayout::make(options_.format, base, options_.out_dir);
    const std::optional<Nid> ipm = store.ipm_subtree_nid();
    const std::vector<std::string> wanted = split_path(options_.folder);
    std::map<Nid, Nid> parent_of;
    std::map<Nid, std::vector<std::string>> dirs;  // folder → its directory names below the root
    std::map<Nid, std::vector<std::string>> below;  // folder → path below the IPM subtree
    std::map<fs::path, std::set<std::string>> taken;
    std::vector<FolderPlan> plans;
    walk_folders(store, [&](const FolderVisit& v) {
      // Where this folder lives: its parent's directory plus its own name.
      std::vector<std::string> dir;
      std::optional<std::vector<std::string>> ipm_path;
      if (ipm && v.nid == *ipm) ipm_path.emplace();
      if (v.depth > 0) {
        Nid parent = parent_of.count(v.nid) ? parent_of[v.nid] : 0;
        if (dirs.count(parent)) dir = dirs[parent];
        std::string name = directory_name(v.path.empty() ? std::to_string(v.nid) : v.path.back());
        fs::path parent_key;
        for (const auto& n : dir) parent_key /= n;
        if (!taken[parent_key].insert(name).second) {
          name += " (" + std::to_string(v.nid) + ")";
          taken[parent_key].insert(name);
        }
        dir.push_back(name);
        if (!ipm_path && below.count(parent)) {
          ipm_path = below[parent];
          ipm_path->push_back(v.path.empty() ? "" : v.path.back());
        }
      }
      dirs[v.nid] = dir;
      if (ipm_path) below[v.nid] = *ipm_path;
      for (const TableRow& row : v.subfolders) parent_of[row.nid] = v.nid;

      // --folder: only that folder and what is below it.
      if (!wanted.empty()) {
        if (!ipm_path || ipm_path->size() < wanted.size() ||
            !std::equal(wanted.begin(), wanted.end(), ipm_path->begin()))
          return true;
      }
      // --unit: only the unit's folder (the others were walked for their names).
      if (options_.unit && v.nid != options_.unit->folder_nid) return true;
      FolderPlan p;
      p.nid = v.nid;
      for (const auto& n : v.path) p.display_path += (p.display_path.empty() ? "" : "/") + n;
      p.place.names = dir;
      p.place.below_ipm_subtree = ipm_path.has_value();  // the IPM subtree itself or a folder below it
      p.place.is_ipm_subtree = ipm && v.nid == *ipm;
      p.place.display_name = v.folder ? v.folder->name() : "";
      p.readable = v.folder != nullptr;
      if (!v.folder) p.error = v.error.message();
      if (v.folder) p.content_count = size_t(std::max<int32_t>(0, v.folder->content_count()));
      plans.push_back(std::move(p));
      return true;
    });
    if (!wanted.empty() && plans.empty()) {
      source["error"] = "no folder " + options_.folder;
      partial_ = true;
    }
    if (options_.unit && plans.empty()) {
      source["error"] = "unit " + options_.unit->id + ": no folder " + hex(options_.unit->folder_nid) +
                        " (the file changed since it was planned)";
      partial_ = true;
    }
    return plans;
  }

  // Exports the planned folders of source number `source_index` (after
  // plan()). False when the export must stop (a file could not be written).
  bool run(const Store& store, size_t source_index, const std::vector<FolderPlan>& plans,
           nlohmann::ordered_json& source) {
    source_index_ = source_index;
    source["folders"] = nlohmann::ordered_json::array();
    for (const FolderPlan& p : plans)
      if (!export_folder(store, p, source)) return false;
    return true;
  }

  bool partial() const { return partial_; }
  size_t exported() const { return exported_; }

 private:
  const ExportCommandOptions& options_;
  nlohmann::ordered_json& manifest_;
  ManifestFiles& files_;  // manifest.json's "files", streamed to a temporary file
  const unsigned type_mask_;  // 0: every type
  OrderedWorkers<RenderedItem>& workers_;
  ProgressBar& progress_;
  ExportJournal* journal_;  // null: none (it could not be created is an error, so only in tests)
  const bool resuming_;
  std::unique_ptr<ExportLayout> layout_;
  size_t source_index_ = 0;
  bool partial_ = false;
  size_t exported_ = 0;
  size_t consumed_ = 0;
  uint64_t kill_after_ = 0;
  // Attachments larger than this (or past four times this in a message) are
  // streamed into the .eml or Maildir file, which the worker then writes
  // as it converts (EmlOptions::stream_attachments_above): memory stays
  // bounded by the message's other parts, whatever its attachments' sizes.
  // 256 KiB rather than more: a buffer of megabytes per message is memory
  // the kernel must fault in and zero, which cost enron.pst's export a
  // quarter of its CPU; below this, streaming costs more than it saves
  // (docs/BENCHMARKS.md, session 20).
  uint64_t stream_above_ = uint64_t{256} << 10;

  // What a worker does with the item in row `row`: everything but entering
  // it in the manifest and journal, and writing it if `writer` is null
  // (a mailbox, which is appended to in order).
  RenderedItem render(const Store& store, const ContentRows& rows, size_t row, const JournalFolder* recorded,
                      FolderSink* writer, const FolderSink* preparer) const {
    RenderedItem r;
    auto row_nid = rows.nid(row);  // read once already by content_rows(): fails only on an I/O error
    if (!row_nid) {
      r.failure = "contents table: " + row_nid.status().message();
      return r;
    }
    const Nid nid = r.nid = *row_nid;
    // --resume: an item the interrupted export wrote whole is kept.
    if (recorded && !appends_to_mailbox(options_.format)) {
      auto it = recorded->items.find(nid);
      if (it != recorded->items.end() && !it->second.files.empty() &&
          files_intact(options_.out_dir, it->second.files)) {
        r.outcome = RenderedItem::Outcome::kReused;
        r.reused = &it->second;
        return r;
      }
    }
    auto message = store.open_message(nid);
    if (!message) {
      r.failure = message.status().message();
      return r;
    }
    const std::string cls = message->message_class();
    if (type_mask_ != 0 && !(type_mask_ & unsigned(item_type_of(cls)))) {
      r.outcome = RenderedItem::Outcome::kFiltered;
      return r;
    }
    VcardOptions vcard_options;
    vcard_options.version3 = options_.vcard == "3.0";
    bool own_written = false;  // the item's own file was written as it was converted
    if (options_.format == "ics" || options_.format == "vcf") {
      // ics / vcf: items of other types are counted, not exported.
      const bool ics = options_.format == "ics";
      if (!(ics ? has_icalendar_form(cls) : has_vcard_form(cls))) {
        r.outcome = RenderedItem::Outcome::kNoForm;
        return r;
      }
      auto item = ics ? message_to_icalendar(*message, store.names())
                      : message_to_vcard(*message, store.names(), vcard_options);
      if (!item) {
        r.failure = item.status().message();
        return r;
      }
      r.data = std::move(item->data);
      r.notes = std::move(item->notes);
    } else if (options_.format == "msg") {
      auto msg = message_to_msg(store, *message);
      if (!msg) {
        r.failure = msg.status().message();
        return r;
      }
      r.data = std::move(msg->data);
      r.notes = std::move(msg->notes);
    } else {
      EmlOptions eml_options;
      eml_options.crlf = layout_->crlf();
      // Where the workers write the files, a message with large attachments
      // is written as it is converted (its file then is written here, not
      // in write_rendered).
      std::unique_ptr<ItemFile> streamed_file;
      std::string open_error;
      const EmlWrite write_piece = [&](ByteView piece) {
        if (!streamed_file) streamed_file = writer->open_item_file(*message, "", &open_error);
        return streamed_file && streamed_file->write(piece);
      };
      bool streamed = false;
      if (writer) {
        eml_options.stream_attachments_above = stream_above_;
        eml_options.check_streamed_attachments = false;
      }
      auto eml = writer ? message_to_eml(*message, eml_options, write_piece, &streamed)
                        : message_to_eml(*message, eml_options);
      if (writer && streamed && !eml && open_error.empty() && (!streamed_file || streamed_file->error().empty())) {
        // A streamed attachment could not be read as it was written: what
        // was written goes, and the message is converted again with its
        // attachments checked first, which leaves that one out with a note.
        if (streamed_file) streamed_file->abandon();
        streamed_file.reset();
        eml_options.check_streamed_attachments = true;
        eml = message_to_eml(*message, eml_options, write_piece, &streamed);
      }
      if (!open_error.empty() || (streamed_file && !streamed_file->error().empty())) {
        // Writing failed (a full disk): the export stops, as in write_rendered.
        if (streamed_file) streamed_file->abandon();
        r.outcome = RenderedItem::Outcome::kRendered;
        r.write_error = !open_error.empty() ? open_error : streamed_file->error();
        return r;
      }
      if (!eml) {
        if (streamed_file) streamed_file->abandon();
        r.failure = eml.status().message();
        return r;
      }
      if (streamed) {
        ExportedFile file;
        if (!streamed_file->finish(&file, &r.write_error)) {
          streamed_file->abandon();
          r.outcome = RenderedItem::Outcome::kRendered;
          return r;
        }
        r.written.push_back(std::move(file));
        own_written = true;
      }
      r.data = std::move(eml->data);
      r.notes = std::move(eml->notes);
      // Contacts, appointments and tasks also get their .vcf / .ics beside
      // the .eml (formats with mailboxes have no place for them).
      const bool ics = has_icalendar_form(cls);
      if (options_.format == "eml" && (ics || has_vcard_form(cls))) {
        auto item = ics ? message_to_icalendar(*message, store.names())
                        : message_to_vcard(*message, store.names(), vcard_options);
        const std::string extension = ics ? "ics" : "vcf";
        if (!item) {
          r.notes.push_back(extension + ": " + item.status().message());
        } else {
          for (const std::string& n : item->notes) r.notes.push_back(extension + ": " + n);
          r.beside_extension = extension;
          r.beside = std::move(item->data);
        }
      }
    }
    r.outcome = RenderedItem::Outcome::kRendered;
    if (preparer) {
      // The mailbox text is made here, on the worker: the thread that
      // appends in order only writes and hashes it, and neither the eml
      // nor the message (its bodies among its properties) waits with it.
      preparer->prepare(*message, r.data, &r.prepared);
      r.is_prepared = true;
      r.data = Bytes();
      return r;
    }
    if (own_written) {
      // The file beside it is written now too, after it (write_rendered's order).
      if (!r.beside_extension.empty()) {
        ExportedFile file;
        if (writer->write_item(*message, r.beside_extension, r.beside, "", &file, &r.write_error))
          r.written.push_back(std::move(file));
        r.beside = Bytes();
      }
      return r;
    }
    r.message = std::move(*message);
    r.write_pending = writer != nullptr;  // by write_rendered, with the items rendered with it
    return r;
  }

  // Writes the files of items a worker rendered together (formats with a
  // file per item): their digests are computed two files at a time, which
  // is faster than one by one (sha256_two), then each item's files are
  // written and its rendered data let go before it waits for its turn.
  static void write_rendered(FolderSink& writer, RenderedItem* const* items, size_t n) {
    std::array<ByteView, 2 * OrderedWorkers<RenderedItem>::kMaxBatch> data;
    std::array<Sha256Digest, 2 * OrderedWorkers<RenderedItem>::kMaxBatch> digests;
    size_t files = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!items[k]->write_pending) continue;
      data[files++] = items[k]->data;
      if (!items[k]->beside_extension.empty()) data[files++] = items[k]->beside;
    }
    for (size_t f = 0; f < files; f += 2) {
      Sha256Digest unused;
      sha256_two(data[f], f + 1 < files ? data[f + 1] : ByteView(), &digests[f],
                 f + 1 < files ? &digests[f + 1] : &unused);
    }
    size_t f = 0;
    for (size_t k = 0; k < n; ++k) {
      RenderedItem& r = *items[k];
      if (!r.write_pending) continue;
      r.write_pending = false;
      ExportedFile file;
      const size_t own = f++;
      const size_t beside = r.beside_extension.empty() ? own : f++;
      if (writer.write_item(*r.message, "", r.data, sha256_digest_hex(digests[own]), &file, &r.write_error)) {
        r.written.push_back(std::move(file));
        if (!r.beside_extension.empty() &&
            writer.write_item(*r.message, r.beside_extension, r.beside, sha256_digest_hex(digests[beside]), &file,
                              &r.write_error)) {
          r.written.push_back(std::move(file));
        }
      }
      r.data = Bytes();  // written: the memory goes back before the item waits for its turn
      r.beside = Bytes();
      r.message.reset();
    }
  }

  // Adds a finished folder's entry and files to the manifest. False when
  // the files could not be entered (the export stops).
  bool record_folder(nlohmann::ordered_json& entry, const std::vector<JournalFile>& files,
                     nlohmann::ordered_json& source) {
    bool ok = true;
    std::string error;
    for (const auto& [path, sha] : files) {
      if (!files_.add(path, sha, &error)) {
        manifest_["stopped"] = error;
        ok = false;
        break;
      }
    }
    if (entry.contains("failed") || entry.contains("incomplete") || entry.contains("error")) partial_ = true;
    source["folders"].push_back(std::move(entry));
    return ok;
  }

  bool export_folder(const Store& store, const FolderPlan& plan, nlohmann::ordered_json& source) {
    nlohmann::ordered_json entry;
    entry["path"] = plan.display_path;
    entry["nid"] = plan.nid;
    auto give_up = [&](const std::string& why) {
      entry["error"] = why;
      partial_ = true;
      source["folders"].push_back(std::move(entry));
      progress_.advance(plan.content_count);
      return true;
    };
    if (!plan.readable) return give_up(plan.error);
    const JournalFolder* recorded = resuming_ && journal_ ? journal_->folder(source_index_, plan.nid) : nullptr;
    const bool mailbox = appends_to_mailbox(options_.format);
    // --resume: a mailbox folder the interrupted export finished, whose
    // files are all there and intact, is taken as it was. The other formats
    // journal each item's files (a finished folder's record does not repeat
    // them, so that memory stays flat in folder size): their items are
    // taken one by one below.
    if (recorded && recorded->done && mailbox && files_intact(options_.out_dir, recorded->done_files)) {
      nlohmann::ordered_json done = *recorded->done;
      exported_ += done.value("exported", size_t{0});
      progress_.advance(done.value("found", plan.content_count));
      return record_folder(done, recorded->done_files, source);
    }
    auto folder = store.open_folder(plan.nid);
    if (!folder) return give_up(folder.status().message());
    // The items are read from the contents table row by row (no list of
    // them: memory does not grow with the folder).
    auto rows = folder->content_rows();
    if (!rows) return give_up("contents table: " + rows.status().message());
    entry["found"] = rows->size();
    size_t first = 0, count = rows->size();
    if (options_.unit) {
      std::string why;
      if (!select_unit_range(*options_.unit, plan.display_path, rows->size(), &first, &count, &why))
        return give_up(why);
      entry["first"] = options_.unit->first;
      entry["count"] = options_.unit->count;
    }
    if (progress_.enabled() && count != plan.content_count) {
      progress_.add_total(count);
      progress_.advance(plan.content_count);  // the estimate is replaced by the count
    }
    nlohmann::ordered_json failed = nlohmann::ordered_json::array();
    nlohmann::ordered_json incomplete = nlohmann::ordered_json::array();
    size_t exported = 0;
    std::string error;
    auto stop = [&](const std::string& why) {
      manifest_["stopped"] = why;
      entry["exported"] = exported;
      if (!failed.empty()) entry["failed"] = std::move(failed);
      source["folders"].push_back(std::move(entry));
      return false;
    };
    if (count == 0 && !layout_->keeps_empty(plan.place)) {
      entry["exported"] = 0;
      if (type_mask_ != 0) entry["skipped_by_filter"] = 0;
      source["folders"].push_back(std::move(entry));
      return true;
    }
    std::unique_ptr<FolderSink> sink = layout_->open(plan.place, &error);
    if (!sink) return stop(error);
    const bool item_format = options_.format == "ics" || options_.format == "vcf";
    size_t skipped = 0, filtered = 0;
    // The sink hands over each item's files as it writes them; they enter
    // the manifest at once, and the journal with their item (item formats)
    // or with the finished folder (mailboxes, whose few files are complete
    // only then). Nothing is kept per item.
    std::vector<JournalFile> folder_files;
    auto take_sink_files = [&](std::vector<JournalFile>* item_files) {
      for (ExportedFile& f : sink->take_files()) {
        if (!files_.add(f.path, f.sha256, &error)) {
          manifest_["stopped"] = error;
          return false;
        }
        (item_files && !mailbox ? *item_files : folder_files).emplace_back(std::move(f.path), std::move(f.sha256));
      }
      return true;
    };
    const Nid folder_nid = plan.nid;
    FolderSink* const writer = sink->writes_items_anywhere() ? sink.get() : nullptr;
    const FolderSink* const preparer = sink->prepares_items() ? sink.get() : nullptr;
    // Formats with a file per item: workers take two items at a time and
    // hash their files together.
    const OrderedWorkers<RenderedItem>::Finish write_files = [writer](RenderedItem* const* items, size_t n) {
      write_rendered(*writer, items, n);
    };
    const bool completed = workers_.run(
        count, [&](size_t i) { return render(store, *rows, first + i, recorded, writer, preparer); },
        [&](size_t, RenderedItem&& r) {
          const Nid nid = r.nid;
          progress_.advance();
          test_kill_point();
          switch (r.outcome) {
            case RenderedItem::Outcome::kFailed:
              failed.push_back({{"nid", nid}, {"reason", r.failure}});
              return true;
            case RenderedItem::Outcome::kFiltered: ++filtered; return true;
            case RenderedItem::Outcome::kNoForm: ++skipped; return true;
            case RenderedItem::Outcome::kReused:
              for (const auto& [path, sha] : r.reused->files) {
                if (!files_.add(path, sha, &error)) {
                  manifest_["stopped"] = error;
                  return false;
                }
              }
              if (!r.reused->notes.empty()) incomplete.push_back({{"nid", nid}, {"left_out", r.reused->notes}});
              ++exported, ++exported_;
              return true;
            case RenderedItem::Outcome::kRendered: break;
          }
          JournalItem written;
          if (!r.write_error.empty()) {
            error = r.write_error;
            failed.push_back({{"nid", nid}, {"reason", error}});
            return false;
          }
          if (writer) {
            sink->adopt(std::move(r.written));
          } else if (r.is_prepared) {
            if (!sink->add_prepared(r.prepared, &error)) {
              failed.push_back({{"nid", nid}, {"reason", error}});
              return false;
            }
          } else if (!sink->add(*r.message, r.data, &error) ||
                     (!r.beside_extension.empty() &&
                      !sink->add_beside(*r.message, r.beside_extension, r.beside, &error))) {
            failed.push_back({{"nid", nid}, {"reason", error}});
            return false;
          }
          if (!take_sink_files(&written.files)) return false;
          if (!r.notes.empty()) incomplete.push_back({{"nid", nid}, {"left_out", r.notes}});
          ++exported, ++exported_;
          // A mailbox is complete only with its folder: its items are not
          // journaled one by one.
          if (journal_ && !mailbox) {
            written.notes = std::move(r.notes);
            if (!journal_->add_item(source_index_, folder_nid, nid, written, &error)) return false;
          }
          return true;
        },
        2, writer ? write_files : OrderedWorkers<RenderedItem>::Finish());
    if (!completed) return stop(error);
    if (!sink->finish(&error) || !take_sink_files(nullptr)) return stop(error);
    // ics / vcf: a folder whose items were all skipped has no directory.
    if (!item_format || exported > 0) entry["output"] = sink->location();
    entry["exported"] = exported;
    if (item_format) entry["skipped"] = skipped;
    if (type_mask_ != 0) entry["skipped_by_filter"] = filtered;
    if (!failed.empty()) entry["failed"] = std::move(failed);
    if (!incomplete.empty()) entry["incomplete"] = std::move(incomplete);
    if (journal_ && !journal_->add_folder(source_index_, folder_nid, entry, folder_files, &error)) return stop(error);
    return record_folder(entry, {}, source);  // its files are in the manifest already
  }

  // Test-only fault injection (tests/scripts/test_export_jobs.py):
  // PSTKIT_TEST_EXPORT_KILL_AFTER=N kills the process with SIGKILL when
  // the writer takes item N, as an interruption would.
  void test_kill_point() {
    if (kill_after_ != 0 && ++consumed_ >= kill_after_) ::kill(::getpid(), SIGKILL);
  }
};

// What an export's journal must agree on for --resume to continue it:
// every option that changes what is written (not --jobs, -q, --overwrite).
nlohmann::ordered_json journal_options(const ExportCommandOptions& options) {
  nlohmann::ordered_json j;
  j["files"] = options.files;
  j["format"] = options.format;
  j["vcard"] = options.vcard;
  j["folder"] = options.folder;
  j["types"] = options.types;
  j["recover"] = options.read.recover;
  j["deleted"] = options.read.include_deleted;
  j["codepage"] = options.read.codepage;
  j["default_codepage"] = options.read.default_codepage;
  return j;
}

}  // namespace

int cmd_export(const ExportCommandOptions& options) {
  if (!ExportLayout::make(options.format, options.out_dir, options.out_dir)) {
    std::cerr << "pstkit: export: format " << options.format << " is not supported\n";
    return kExitUsage;
  }
  unsigned type_mask = 0;
  std::string error;
  if (!parse_item_types(options.types, &type_mask, &error)) {
    std::cerr << "pstkit: export: " << error << "\n";
    return kExitUsage;
  }
  if (options.resume && options.overwrite) {
    std::cerr << "pstkit: export: --resume continues an export, --overwrite starts it over: give one of them\n";
    return kExitUsage;
  }
  // Units of one file go into one tree side by side; a folder's mbox file
  // would be written whole by each unit of the folder.
  if (options.unit && (options.format == "mbox" || options.format == "thunderbird")) {
    std::cerr << "pstkit: export: --unit writes eml, msg, maildir, ics or vcf, not " << options.format
              << " (one mailbox file per folder; export the file whole instead)\n";
    return kExitUsage;
  }
  // The units of a plan share DIR and keep no journal: a unit that did not
  // finish is run again whole (its files are rewritten with the same bytes).
  if (options.unit && options.resume) {
    std::cerr << "pstkit: export: --resume continues a whole export; run an interrupted unit again instead\n";
    return kExitUsage;
  }
  const fs::path out = options.out_dir;
  const fs::path journal_path = out / kExportJournalName;
  std::error_code ec;
  std::unique_ptr<ExportJournal> journal;
  if (options.resume) {
    if (!fs::exists(journal_path, ec)) {
      // A finished export has its manifest and no journal: nothing to do.
      std::ifstream finished(out / "manifest.json");
      const auto manifest = nlohmann::json::parse(finished, nullptr, false);
      if (finished && !manifest.is_discarded() && manifest.is_object() && !manifest.contains("stopped")) {
        if (!options.quiet) std::cerr << "pstkit: export: " << options.out_dir << " is complete: nothing to resume\n";
        const bool complete = manifest.contains("complete") && manifest["complete"] == true;
        return complete ? kExitOk : kExitPartial;
      }
      std::cerr << "pstkit: export: --resume: " << options.out_dir << " holds no interrupted export (no "
                << kExportJournalName << ")\n";
      return kExitUsage;
    }
    bool options_differ = false;
    journal = ExportJournal::resume(options.out_dir, journal_options(options), &error, &options_differ);
    if (!journal) {
      std::cerr << "pstkit: export: --resume: " << error << "\n";
      return options_differ ? kExitUsage : kExitBadInput;
    }
  } else if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      std::cerr << "pstkit: export: " << options.out_dir << " exists and is not a directory\n";
      return kExitUsage;
    }
    if (!directory_is_empty(out) && !options.overwrite && !options.unit) {
      std::cerr << "pstkit: export: " << options.out_dir << " is not empty ("
                << (fs::exists(journal_path, ec) ? "--resume to continue the interrupted export, " : "")
                << "--overwrite to write into it)\n";
      return kExitUsage;
    }
  } else if (!fs::create_directories(out, ec) && (ec || !fs::is_directory(out, ec))) {
    // (false without an error: another unit of the same plan made it meanwhile)
    std::cerr << "pstkit: export: cannot create " << options.out_dir << ": " << ec.message() << "\n";
    return kExitBadInput;
  }
  if (!journal && !options.unit) {
    journal = ExportJournal::create(options.out_dir, journal_options(options), &error);
    if (!journal) {
      std::cerr << "pstkit: export: " << error << "\n";
      return kExitBadInput;
    }
  }

  nlohmann::ordered_json manifest;
  manifest["format"] = options.format;
  if (!options.types.empty()) manifest["types"] = options.types;
  if (options.unit) manifest["unit"] = nlohmann::ordered_json::parse(work_unit_json(*options.unit));
  manifest["sources"] = nlohmann::ordered_json::array();
  manifest["files"] = nlohmann::ordered_json::object();
  // "files" stays empty in `manifest`: its entries are streamed to a
  // temporary file and spliced in when manifest.json is written (memory
  // does not grow with the item count).
  ManifestFiles files;
  if (!files.open(&error)) {
    std::cerr << "pstkit: export: " << error << "\n";
    return kExitBadInput;
  }
  // Items the workers write themselves (workers_write_items) wait for their
  // turn as small records, their files' names and hashes, so a wide window
  // costs little. Mailbox entries wait with their text: fewer are let ahead.
  OrderedWorkers<RenderedItem> workers(resolve_jobs(options.jobs), workers_write_items(options.format) ? 16 : 2);
  ProgressBar progress(!options.quiet);
  Exporter exporter(options, manifest, files, type_mask, workers, progress, journal.get());
  bool stopped = false, any_opened = false;
  std::set<std::string> stems;
  for (size_t index = 0; index < options.files.size(); ++index) {
    const std::string& file = options.files[index];
    nlohmann::ordered_json source;
    source["file"] = file;
    // One source: its folders straight into DIR; several: DIR/<file name>.
    fs::path base = out;
    if (options.files.size() > 1) {
      std::string stem = directory_name(fs::path(file).stem().string());
      while (!stems.insert(stem).second) stem += "_";
      base /= stem;
      source["directory"] = stem;
    }
    if (options.unit && !options.unit->directory.empty()) {
      base /= options.unit->directory;
      source["directory"] = options.unit->directory;
    }
    auto store = open_store_or_report(file, options.read);
    if (!store) {
      source["error"] = "cannot open the file";
      manifest["sources"].push_back(std::move(source));
      continue;
    }
    any_opened = true;
    const std::vector<FolderPlan> plans = exporter.plan(*store, base, source);
    for (const FolderPlan& p : plans) progress.add_total(p.content_count);
    if (!exporter.run(*store, index, plans, source)) stopped = true;
    manifest["sources"].push_back(std::move(source));
    if (stopped) break;
  }
  progress.finish();
  const bool complete = any_opened && !stopped && !exporter.partial() &&
                        manifest["sources"].size() == options.files.size() &&
                        std::none_of(manifest["sources"].begin(), manifest["sources"].end(),
                                     [](const auto& s) { return s.contains("error"); });
  manifest["exported"] = exporter.exported();
  manifest["complete"] = complete;

  const std::string manifest_name = options.unit ? "manifest-" + options.unit->id + ".json" : "manifest.json";
  if (!files.write(manifest, out / manifest_name, &error)) {
    std::cerr << "pstkit: export: " << error << "\n";
    return kExitBadInput;
  }
  if (stopped) {
    // The journal stays: --resume continues once the cause is fixed.
    std::cerr << "pstkit: export stopped: " << manifest.value("stopped", std::string())
              << (options.unit ? " (run the unit again)\n" : " (--resume continues it)\n");
    return kExitBadInput;
  }
  if (journal) journal->remove();
  if (!any_opened) return kExitBadInput;
  if (!options.quiet)
    std::cerr << "pstkit: exported " << exporter.exported() << " items to " << options.out_dir
              << (complete ? "" : " (incomplete: see " + manifest_name + ")") << "\n";
  return complete ? kExitOk : kExitPartial;
}

}  // namespace pstkit::cli
