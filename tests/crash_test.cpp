// Crash tests (docs/COMMIT_PROTOCOL.md): a workload of creates, imports,
// modifications and deletes runs against a simulated disk that crashes at
// every write and every sync in turn, with torn writes and with unsynced
// writes lost or kept. After each crash the header decides: if the
// interrupted commit's new header is on disk, every reader already sees the
// new state and it must never be undone; otherwise the state is the one
// before the commit. A read-only open must read exactly that state without
// changing a byte, check must find no error in it, and a writer's recovery
// must then leave the same state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fault_env.h"
#include "messaging/search_updates.h"
#include "pstkit/check.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

using testing::FaultEnv;

PropValue text(uint16_t id, const std::string& s) { return ltp::string_value(id, s); }
PropValue i32(uint16_t id, int32_t x) { return ltp::int32_value(id, x); }

NewMessage message(const std::string& subject, size_t attachment_bytes) {
  NewMessage m;
  m.properties = {text(prop::kMessageClass, "IPM.Note"), text(prop::kSubject, subject),
                  text(prop::kBody, "Body of " + subject), i32(prop::kMessageFlags, 0)};
  m.recipients.push_back({text(prop::kDisplayName, "Ann"), i32(prop::kRecipientType, 1),
                          text(prop::kEmailAddress, "ann@example.com"), text(prop::kAddressType, "SMTP")});
  if (attachment_bytes) {
    NewAttachment a;
    a.properties = {text(prop::kAttachLongFilename, subject + ".bin")};
    a.data.resize(attachment_bytes);
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = uint8_t(i * 7 + subject.size());
    m.attachments.push_back(std::move(a));
  }
  return m;
}

std::string snapshot_of(std::unique_ptr<ndb::Database> db);

// A canonical description of everything a user sees in the store.
std::string snapshot(const Bytes& image) {
  auto db = ndb::Database::open_memory(image);
  if (!db) return "unreadable: " + db.status().message();
  return snapshot_of(std::move(*db));
}

std::string snapshot_of(std::unique_ptr<ndb::Database> db) {
  auto store = Store::open(std::move(db));
  if (!store) return "unreadable store: " + store.status().message();
  std::ostringstream out;
  std::vector<std::pair<Nid, std::string>> pending{{ndb::kNidRootFolder, ""}};
  while (!pending.empty()) {
    auto [nid, path] = pending.back();
    pending.pop_back();
    auto f = (*store)->open_folder(nid);
    if (!f) return "bad folder " + path;
    auto contents = f->contents();
    auto subs = f->subfolders();
    if (!contents || !subs) return "bad tables " + path;
    out << "F " << path << " n=" << f->content_count() << " u=" << f->unread_count() << " rows=" << contents->size()
        << " sub=" << f->has_subfolders() << "\n";
    for (const auto& r : *contents) {
      auto m = (*store)->open_message(r.nid);
      if (!m) return "bad message in " + path;
      out << "  M " << m->subject() << " body=" << m->body_text().value_or("") << " flags="
          << m->properties().get_i32(prop::kMessageFlags).value_or(-1);
      auto atts = m->attachment_nids();
      if (!atts) return "bad attachments";
      for (Nid a : *atts) {
        auto att = m->open_attachment(a);
        if (!att) return "bad attachment";
        auto data = att->read_data();
        out << " A(" << att->filename() << "," << (data ? data->size() : 0) << ")";
      }
      out << "\n";
    }
    for (const auto& s : *subs) pending.push_back({s.nid, path + "/" + s.props.get_string(prop::kDisplayName).value_or("")});
  }
  // The search management queue (MS-PST 2.4.8.4.1) commits with the changes
  // its SUDs describe.
  auto queue = read_sud_queue((*store)->db());
  if (!queue) return "bad search queue: " + queue.status().message();
  out << "SMQ";
  for (const Sud& s : *queue) {
    out << " " << s.flags << ":" << int(s.type);
    for (uint32_t d : s.data) out << "," << d;
  }
  out << "\n";
  return out.str();
}

// The workload: each step is one commit. Returns how many committed.
int run_workload(Env* env, const std::string& path, const std::function<void()>& after_commit) {
  ndb::WriterOptions wo;
  wo.env = env;
  auto w = StoreWriter::open(path, wo);
  if (!w) return 0;
  StoreWriter& s = **w;
  int done = 0;
  auto commit = [&]() -> bool {
    if (!s.commit().is_ok()) return false;
    ++done;
    if (after_commit) after_commit();
    return true;
  };
  // 1. A new folder with messages (one with a multi-block attachment).
  auto folder = s.create_folder(s.ipm_subtree(), "Projects");
  if (!folder) return done;
  for (int i = 0; i < 3; ++i) {
    if (!s.create_message(*folder, message("Plan " + std::to_string(i), i == 1 ? 20000 : 100)).is_ok()) return done;
  }
  if (!commit()) return done;
  // 2. Modify and move.
  auto rows = s.store().open_folder(*folder);
  if (!rows) return done;
  auto contents = rows->contents();
  if (!contents || contents->size() != 3) return done;
  const Nid first = (*contents)[0].nid, second = (*contents)[1].nid, third = (*contents)[2].nid;
  if (!s.set_message_properties(first, {text(prop::kSubject, "Plan 0 (revised)"), i32(prop::kMessageFlags, 1)})
           .is_ok()) {
    return done;
  }
  auto sub = s.create_folder(*folder, "Archive");
  if (!sub || !s.move_message(second, *sub).is_ok()) return done;
  if (!commit()) return done;
  // 3. Delete a message and rename the folder.
  if (!s.delete_message(third).is_ok() || !s.rename_folder(*folder, "Projects 2026").is_ok()) return done;
  if (!commit()) return done;
  // 4. An import batch.
  for (int i = 0; i < 6; ++i) {
    if (!s.create_message(*sub, message("Imported " + std::to_string(i), i % 2 ? 9000 : 0)).is_ok()) return done;
  }
  if (!commit()) return done;
  // 5. Delete the whole subtree.
  if (!s.delete_folder(*sub).is_ok()) return done;
  commit();
  return done;
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

class CrashTest : public ::testing::TestWithParam<ndb::FileFormat> {};

TEST_P(CrashTest, EveryWriteAndSyncLeavesOldOrNewState) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pstkit-crash-" + std::to_string(::getpid()) + "-" + std::to_string(int(GetParam())));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string base_path = (dir / "base.pst").string();
  {
    NewStoreOptions o;
    o.format = GetParam();
    auto w = StoreWriter::create(base_path, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
  }
  const Bytes base = read_file(base_path);
  const std::string path = "/virtual/test.pst";

  // Dry run: the state after each commit and the event count at each.
  FaultEnv env;
  env.put_file(path, base);
  env.arm(-1, false);
  std::vector<std::string> states{snapshot(base)};
  // The header each commit wrote: its commit point.
  const size_t header_size = GetParam() == ndb::FileFormat::kAnsi ? 512 : 564;
  std::vector<Bytes> headers{Bytes(base.begin(), base.begin() + long(header_size))};
  const int commits = run_workload(&env, path, [&] {
    const Bytes& now = env.files()[path].current;
    states.push_back(snapshot(now));
    headers.emplace_back(now.begin(), now.begin() + long(header_size));
  });
  ASSERT_EQ(commits, 5);
  const int64_t total_events = env.events();
  for (size_t i = 1; i < states.size(); ++i) ASSERT_NE(states[i], states[i - 1]) << "commit " << i << " changed nothing";

  int64_t stride = 1;
  if (const char* s = std::getenv("PSTKIT_CRASH_STRIDE")) stride = std::max(1L, std::atol(s));
  const std::string real = (dir / "crashed.pst").string();
  int64_t tried = 0, failures = 0, forward = 0;
  const std::vector<std::string> suffixes{"", "-journal", "-journal.tmp"};
  for (int64_t k = 0; k < total_events; k += stride) {
    for (auto survival : {FaultEnv::Survival::kNoUnsynced, FaultEnv::Survival::kAllUnsynced,
                          FaultEnv::Survival::kTornLast, FaultEnv::Survival::kRandomSubset}) {
      env.put_file(path, base);
      env.files().erase(path + "-journal");
      env.files().erase(path + "-journal.tmp");
      env.arm(k, survival != FaultEnv::Survival::kNoUnsynced);
      const int done = run_workload(&env, path, {});
      ASSERT_TRUE(env.crashed()) << "event " << k;
      for (const auto& suffix : suffixes) std::filesystem::remove(real + suffix);
      std::map<std::string, Bytes> disk;
      for (const auto& [p, bytes] : env.disk_after_crash(survival, uint32_t(k))) {
        for (const auto& suffix : suffixes) {
          if (p == path + suffix) {
            write_file(real + suffix, bytes);
            disk[suffix] = bytes;
          }
        }
      }
      ++tried;
      // The commit point: the interrupted commit's header on disk.
      const bool header_landed =
          size_t(done) + 1 < headers.size() && disk[""].size() >= header_size &&
          std::equal(headers[size_t(done) + 1].begin(), headers[size_t(done) + 1].end(), disk[""].begin());
      forward += header_landed;
      const std::string& expected = states[size_t(done) + (header_landed ? 1 : 0)];
      std::string problem;
      // Reading only: the committed state, and not a byte written.
      auto ro = ndb::Database::open(real);
      const std::string read_only = ro ? snapshot_of(std::move(*ro)) : "unreadable: " + ro.status().message();
      if (read_only != expected) problem += "read-only open reads another state; ";
      // With a journal pending, check reads through it; without one, it
      // reads what the recovered file below holds (checked there).
      if (disk.count("-journal")) {
        auto ro_check = check::check_file(real);
        if (!ro_check.is_ok() || !ro_check->clean()) problem += "check (before recovery) finds errors; ";
      }
      for (const auto& suffix : suffixes) {
        const bool was = disk.count(suffix) > 0;
        if (was != std::filesystem::exists(real + suffix) || (was && read_file(real + suffix) != disk[suffix])) {
          problem += "reading changed " + (suffix.empty() ? std::string("the file") : suffix) + "; ";
        }
      }
      // A writer recovers: the same state, and the journal is gone.
      auto w = ndb::WritableDatabase::open(real);
      if (!w) {
        ++failures;
        ADD_FAILURE() << "event " << k << ": reopen failed: " << w.status().message();
        continue;
      }
      w->reset();
      if (snapshot(read_file(real)) != expected) {
        problem += header_landed ? "a commit whose header had landed was undone; "
                                 : "a commit whose header had not landed was kept; ";
      }
      if (std::filesystem::exists(real + "-journal") || std::filesystem::exists(real + "-journal.tmp")) {
        problem += "journal left after recovery; ";
      }
      auto report = check::check_file(real);
      if (!report.is_ok() || !report->clean()) problem += "check finds errors; ";
      if (!problem.empty()) {
        ++failures;
        ADD_FAILURE() << "event " << k << " survival " << int(survival) << " after " << done << " commits: "
                      << problem;
        if (failures > 5) return;
      }
    }
  }
  std::cout << "[ crash points ] " << total_events << " events, " << tried << " crashes tried (" << forward
            << " after the header landed), " << failures << " failures\n";
  EXPECT_EQ(failures, 0);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Formats, CrashTest, ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const auto& p) { return p.param == ndb::FileFormat::kAnsi ? "Ansi" : "Unicode"; });

}  // namespace
}  // namespace pstkit
