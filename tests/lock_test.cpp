// Writers exclude each other and keep other processes' readers out of a
// commit (docs/COMMIT_PROTOCOL.md): a second writer waits, bounded, says
// for whom, and times out leaving the file unchanged; a FILE-journal that is
// not pstkit's is never deleted and keeps writers out.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pstkit/check.h"
#include "pstkit/env.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/store_writer.h"

namespace pstkit {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit-lock-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.pst").string();
    auto w = StoreWriter::create(path_, NewStoreOptions{});
    ASSERT_TRUE(w.is_ok()) << w.status().message();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string path_;
};

TEST_F(LockTest, SecondWriterWaitsNamesTheHolderAndTimesOutLeavingTheFileUnchanged) {
  auto first = StoreWriter::open(path_);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  const std::string before = read_all(path_);

  std::vector<std::string> notices;
  ndb::WriterOptions o;
  o.lock_timeout = milliseconds(300);
  o.notice = [&](const std::string& n) { notices.push_back(n); };
  const auto t0 = std::chrono::steady_clock::now();
  auto second = StoreWriter::open(path_, o);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(second.is_ok());
  EXPECT_NE(second.status().message().find("timed out"), std::string::npos) << second.status().message();
  EXPECT_NE(second.status().message().find("another writer"), std::string::npos) << second.status().message();
  // A wait that ran out is "busy" (MAPI_E_BUSY), not an I/O error.
  EXPECT_EQ(second.status().code(), Code::kBusy) << second.status().message();
  EXPECT_GE(waited, milliseconds(300));
  EXPECT_LT(waited, milliseconds(5000));
  // Said once, naming the holder: this process.
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("pid " + std::to_string(::getpid())), std::string::npos) << notices[0];
  EXPECT_EQ(read_all(path_), before);
  EXPECT_FALSE(fs::exists(path_ + "-journal"));
}

// check, kept out by a commit in progress past the wait: refused as busy,
// not reported as a damaged file (before, only kIoError was told apart).
TEST_F(LockTest, CheckKeptOutPastTheWaitIsBusyNotADamagedFile) {
  // Another process holds the readers lock exclusively, as a commit does.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto file = Env::posix()->open(path_, OpenMode::kExisting);
    if (!file.is_ok() || !(*file)->lock(FileLock::kReaders, LockMode::kExclusive, LockWait{}).is_ok()) ::_exit(1);
    (void)!::write(ready[1], "r", 1);
    ::sleep(30);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  check::CheckOptions o;
  ::setenv("PSTKIT_LOCK_TIMEOUT", "0.3", 1);
  auto r = check::check_file(path_, o);
  ::unsetenv("PSTKIT_LOCK_TIMEOUT");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_FALSE(r.is_ok()) << "reported as a finding instead of refused";
  EXPECT_EQ(r.status().code(), Code::kBusy) << r.status().message();
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
}

TEST_F(LockTest, SecondWriterGetsTheLockWhenTheFirstCloses) {
  auto first = StoreWriter::open(path_);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    first->reset();
  });
  ndb::WriterOptions o;
  o.lock_timeout = milliseconds(20000);
  const auto t0 = std::chrono::steady_clock::now();
  auto second = StoreWriter::open(path_, o);
  const auto waited = std::chrono::steady_clock::now() - t0;
  closer.join();
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  EXPECT_GE(waited, milliseconds(150));
  ASSERT_TRUE((*second)->create_folder((*second)->ipm_subtree(), "After").is_ok());
  ASSERT_TRUE((*second)->commit().is_ok());
}

TEST_F(LockTest, WriterBetweenBatchesLetsAWaitingWriterCommit) {
  auto first = StoreWriter::open(path_);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_TRUE((*first)->create_folder((*first)->ipm_subtree(), "First").is_ok());
  ASSERT_TRUE((*first)->commit().is_ok());
  Status second_status = Status::io_error("not run");
  std::thread other([&] {
    ndb::WriterOptions o;
    o.lock_timeout = milliseconds(20000);
    auto second = StoreWriter::open(path_, o);
    if (!second) {
      second_status = second.status();
      return;
    }
    second_status = (*second)->create_folder((*second)->ipm_subtree(), "Second").status();
    if (second_status.is_ok()) second_status = (*second)->commit();
  });
  // Wait until the other writer waits, then let it go first.
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE((*first)->let_other_writers_commit().is_ok());
  // The first writer continues from the file as the second left it.
  ASSERT_TRUE((*first)->create_folder((*first)->ipm_subtree(), "Third").is_ok());
  ASSERT_TRUE((*first)->commit().is_ok());
  other.join();
  ASSERT_TRUE(second_status.is_ok()) << second_status.message();
  first->reset();
  auto store = Store::open(path_);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto top = (*store)->open_folder(*(*store)->ipm_subtree_nid());
  ASSERT_TRUE(top.is_ok());
  auto subs = top->subfolders();
  ASSERT_TRUE(subs.is_ok());
  std::vector<std::string> names;
  for (const auto& r : *subs) names.push_back(r.props.get_string(prop::kDisplayName).value_or(""));
  for (const char* n : {"First", "Second", "Third"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

TEST_F(LockTest, CommitWaitsForAnotherProcesssReaderAndTimesOutNamingIt) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A reader in another process: holds the readers lock while it lives.
    auto db = ndb::Database::open(path_);
    const char c = db.is_ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    std::this_thread::sleep_for(milliseconds(1500));
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ndb::WriterOptions o;
  o.lock_timeout = milliseconds(200);
  std::vector<std::string> notices;
  o.notice = [&](const std::string& n) { notices.push_back(n); };
  {
    auto w = StoreWriter::open(path_, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    const std::string before = read_all(path_);
    ASSERT_TRUE((*w)->create_folder((*w)->ipm_subtree(), "Blocked").is_ok());
    Status s = (*w)->commit();
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("readers to finish"), std::string::npos) << s.message();
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("pid " + std::to_string(child)), std::string::npos) << notices[0];
    // What the reader reads was not touched in place.
    EXPECT_EQ(read_all(path_).substr(0, 0x4400), before.substr(0, 0x4400));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(ready[0]);
  ::close(ready[1]);
  // With the reader gone, the commit goes through.
  auto w = StoreWriter::open(path_, o);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  ASSERT_TRUE((*w)->create_folder((*w)->ipm_subtree(), "Unblocked").is_ok());
  EXPECT_TRUE((*w)->commit().is_ok());
}

TEST_F(LockTest, ForeignJournalIsNeverDeletedAndKeepsWritersOut) {
  const std::string journal = path_ + "-journal";
  {
    std::ofstream out(journal, std::ios::binary);
    out << "some other program's journal";
  }
  const std::string before = read_all(path_);
  auto store = Store::open(path_);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  store->reset();
  EXPECT_EQ(ndb::inspect_journal(path_).kind, ndb::PendingJournal::Kind::kForeign);
  auto w = StoreWriter::open(path_);
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.status().message().find("not a pstkit journal"), std::string::npos) << w.status().message();
  EXPECT_TRUE(fs::exists(journal));
  EXPECT_EQ(read_all(journal), "some other program's journal");
  EXPECT_EQ(read_all(path_), before);
}

// A journal beside a file whose writer is alive belongs to a commit in
// progress: inspect_journal says so, and readers do not call it interrupted.
TEST_F(LockTest, JournalOfALiveWriterIsACommitInProgress) {
  auto w = StoreWriter::open(path_);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  {
    std::ofstream out(path_ + "-journal", std::ios::binary);
    out << "a journal being written";
  }
  ndb::PendingJournal p = ndb::inspect_journal(path_);
  EXPECT_NE(p.kind, ndb::PendingJournal::Kind::kNone);
  EXPECT_TRUE(p.writer_active);
  w->reset();
  p = ndb::inspect_journal(path_);
  EXPECT_NE(p.kind, ndb::PendingJournal::Kind::kNone);
  EXPECT_FALSE(p.writer_active);
  fs::remove(path_ + "-journal");
}

// The wipe is deferred for readers that take no lock, but what a deleted
// message held is gone from the file once its writer closes, even when the
// writer's last commit deleted it.
TEST_F(LockTest, DeletedContentIsWipedAtClose) {
  const std::string plain = "pstkit-wipe-marker-";
  Bytes data;
  for (int i = 0; i < 400; ++i) data.insert(data.end(), plain.begin(), plain.end());
  // As the file holds it: MS-PST 5.1 permutative encoding, byte by byte.
  std::string marker = plain;
  ndb::encode_permute(reinterpret_cast<uint8_t*>(marker.data()), marker.size());
  Nid message = 0;
  {
    auto w = StoreWriter::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    NewMessage m;
    m.properties = {ltp::string_value(prop::kMessageClass, "IPM.Note"), ltp::string_value(prop::kSubject, "Gone")};
    NewAttachment a;
    a.properties = {ltp::string_value(prop::kAttachLongFilename, "gone.bin")};
    a.data = data;
    m.attachments.push_back(std::move(a));
    auto nid = (*w)->create_message((*w)->ipm_subtree(), m);
    ASSERT_TRUE(nid.is_ok()) << nid.status().message();
    message = *nid;
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  ASSERT_NE(read_all(path_).find(marker), std::string::npos);
  {
    auto w = StoreWriter::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    ASSERT_TRUE((*w)->delete_message(message).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  const std::string after = read_all(path_);
  EXPECT_EQ(after.find(marker), std::string::npos) << "at " << after.find(marker) << " of " << after.size();
}

// `pstkit repair` renames a rebuilt file over FILE while it holds FILE's
// writer lock. A writer that waited for that lock must then write into the
// file now at FILE, not into the old, unlinked inode whose lock it got.
TEST_F(LockTest, WriterThatWaitedWhileTheFileWasReplacedWritesTheNewFile) {
  const std::string replacement = (dir_ / "t.pst.new").string();
  {
    auto r = StoreWriter::create(replacement, NewStoreOptions{});
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_TRUE((*r)->create_folder((*r)->ipm_subtree(), "Replacement").is_ok());
    ASSERT_TRUE((*r)->commit().is_ok());
  }
  auto holder = StoreWriter::open(path_);
  ASSERT_TRUE(holder.is_ok()) << holder.status().message();
  std::thread replacer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_EQ(::rename(replacement.c_str(), path_.c_str()), 0);
    holder->reset();  // releases the lock of the old inode
  });
  ndb::WriterOptions o;
  o.lock_timeout = milliseconds(20000);
  auto waiter = StoreWriter::open(path_, o);
  replacer.join();
  ASSERT_TRUE(waiter.is_ok()) << waiter.status().message();
  ASSERT_TRUE((*waiter)->find_folder({"Replacement"}).is_ok()) << "the waiting writer opened the old inode";
  ASSERT_TRUE((*waiter)->create_folder((*waiter)->ipm_subtree(), "After").is_ok());
  ASSERT_TRUE((*waiter)->commit().is_ok());
  waiter->reset();
  auto check = StoreWriter::open(path_);
  ASSERT_TRUE(check.is_ok()) << check.status().message();
  EXPECT_TRUE((*check)->find_folder({"Replacement"}).is_ok());
  EXPECT_TRUE((*check)->find_folder({"After"}).is_ok()) << "the change went into the unlinked file";
}

// The same for a writer between batches (an import), which releases the lock
// and takes it again: if the file was replaced meanwhile, it goes on in the
// new file.
TEST_F(LockTest, WriterBetweenBatchesGoesOnInAFileReplacedMeanwhile) {
  const std::string replacement = (dir_ / "t.pst.new").string();
  {
    auto r = StoreWriter::create(replacement, NewStoreOptions{});
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_TRUE((*r)->create_folder((*r)->ipm_subtree(), "Replacement").is_ok());
    ASSERT_TRUE((*r)->commit().is_ok());
  }
  auto batches = StoreWriter::open(path_);
  ASSERT_TRUE(batches.is_ok()) << batches.status().message();
  std::atomic<bool> replaced{false};
  std::thread replacer([&] {
    // Waits for the writer lock as another writer does, replaces the file,
    // then lets go.
    auto file = Env::posix()->open(path_, OpenMode::kExisting);
    ASSERT_TRUE(file.is_ok());
    LockWait wait;
    wait.timeout = milliseconds(20000);
    ASSERT_TRUE((*file)->lock(FileLock::kWriter, LockMode::kExclusive, wait).is_ok());
    ASSERT_EQ(::rename(replacement.c_str(), path_.c_str()), 0);
    replaced = true;
  });
  std::this_thread::sleep_for(milliseconds(200));  // the replacer is waiting now
  const Status yielded = (*batches)->let_other_writers_commit();
  replacer.join();
  ASSERT_TRUE(replaced);
  ASSERT_TRUE(yielded.is_ok()) << yielded.message();
  ASSERT_TRUE((*batches)->find_folder({"Replacement"}).is_ok()) << "went on in the old inode";
  ASSERT_TRUE((*batches)->create_folder((*batches)->ipm_subtree(), "NextBatch").is_ok());
  ASSERT_TRUE((*batches)->commit().is_ok());
  batches->reset();
  auto check = StoreWriter::open(path_);
  ASSERT_TRUE(check.is_ok()) << check.status().message();
  EXPECT_TRUE((*check)->find_folder({"Replacement"}).is_ok());
  EXPECT_TRUE((*check)->find_folder({"NextBatch"}).is_ok()) << "the batch went into the unlinked file";
}

}  // namespace
}  // namespace pstkit
