// Stores shared by several processes and write-behind SaveChanges (issue 10
// part 1, docs/MAPI.md "Shared stores" and "Write-behind"): a MAPI store
// opened for writing holds the writer lock only while it has staged changes,
// sees what other processes commit, and commits saved messages in batches
// (at N messages, T ms after the first, at StoreLogoff, at its last Release,
// through flush_open_stores), reporting a failed deferred commit later.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "mapi/open_stores.h"
#include "mapi/pst_store.h"
#include "mapi_test_ptr.h"
#include "pstkit/mapi/mapitags.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/check.h"
#include "pstkit/messaging.h"
#include "pstkit/property.h"
#include "pstkit/store_writer.h"
#include "util/file_lock.h"

using pstkit::mapi::capi::open_pst_store;
using namespace std::chrono;

namespace {

namespace fs = std::filesystem;

using mapi_test::Ptr;

// Environment variables set for one test, restored after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) ::unsetenv(name_.c_str());
    else ::setenv(name_.c_str(), old_.c_str(), 1);
  }

 private:
  std::string name_, old_;
};

class SharedStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    path_ = ::testing::TempDir() + "shared_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".pst";
    fs::remove(path_);
    auto w = pstkit::StoreWriter::create(path_, pstkit::NewStoreOptions{});
    ASSERT_TRUE(w) << w.status().message();
    auto folder = (*w)->create_folder((*w)->ipm_subtree(), "Shared");
    ASSERT_TRUE(folder);
    folder_ = *folder;
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  void TearDown() override {
    MAPIUninitialize();
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_ + "-journal", ec);
  }

  // Messages in the folder as the file holds them (a reader of the
  // committed state, as another process would see it).
  size_t messages_in_file() {
    auto store = pstkit::Store::open(path_);
    if (!store) return size_t(-1);
    auto folder = (*store)->open_folder(folder_);
    if (!folder) return size_t(-1);
    auto rows = folder->contents();
    return rows ? rows->size() : size_t(-1);
  }

  HRESULT open_folder(LPMDB store, LPMAPIFOLDER* out, ULONG flags = MAPI_MODIFY) {
    const pstkit::Bytes eid = entry_id_of_folder(store);
    ULONG type = 0;
    return store->OpenEntry(ULONG(eid.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(eid.data())),
                            &IID_IMAPIFolder, flags, &type, reinterpret_cast<LPUNKNOWN*>(out));
  }
  pstkit::Bytes entry_id_of_folder(LPMDB store) {
    std::array<uint8_t, 16> uid{};
    EXPECT_EQ(pstkit::mapi::capi::pst_store_record_key(store, &uid), S_OK);
    return pstkit::mapi::encode_entry_id(uid, folder_);
  }

  static HRESULT save_message(LPMAPIFOLDER folder, const char* subject) {
    Ptr<IMessage> msg;
    HRESULT hr = folder->CreateMessage(nullptr, 0, msg.out());
    if (FAILED(hr)) return hr;
    SPropValue props[2]{};
    props[0].ulPropTag = PR_SUBJECT_A;
    props[0].Value.lpszA = const_cast<char*>(subject);
    props[1].ulPropTag = PR_MESSAGE_CLASS_A;
    props[1].Value.lpszA = const_cast<char*>("IPM.Note");
    hr = msg->SetProps(2, props, nullptr);
    return FAILED(hr) ? hr : msg->SaveChanges(0);
  }

  static ULONG contents_rows(LPMAPIFOLDER folder) {
    Ptr<IMAPITable> table;
    if (FAILED(folder->GetContentsTable(0, table.out()))) return ULONG(-1);
    ULONG n = 0;
    return SUCCEEDED(table->GetRowCount(0, &n)) ? n : ULONG(-1);
  }

  std::string path_;
  pstkit::Nid folder_ = 0;
};

// Two processes with the store open for writing at once: before, the
// second waited for the first's writer lock, held from open to release,
// and failed MAPI_E_BUSY. Each sees the other's saved message.
TEST_F(SharedStore, TwoProcessesWriteTheStoreAtOnceAndSeeEachOthersMessages) {
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "3");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_EQ(contents_rows(folder.p), 0u);

  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The parent still has the store open for writing.
    int code = 10;
    {
      Ptr<IMsgStore> other;
      if (open_pst_store(path_, MDB_WRITE, other.out()) == S_OK) {
        Ptr<IMAPIFolder> f;
        code = 11;
        if (open_folder(other.p, f.out()) == S_OK && save_message(f.p, "from the child") == S_OK) code = 12;
        char c = 0;
        (void)!::write(ready[1], "x", 1);
        (void)!::read(go[0], &c, 1);  // the parent saved its message
        if (code == 12) code = contents_rows(f.p) == 2 ? 0 : 13;
      }
    }
    ::_exit(code);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  // The child's message, committed by another process, shows at once.
  EXPECT_EQ(contents_rows(folder.p), 1u);
  ASSERT_EQ(save_message(folder.p, "from the parent"), S_OK);
  EXPECT_EQ(contents_rows(folder.p), 2u);
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: open failed, 11: save failed, 13: the parent's message not seen";
  for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
  store.reset();
  folder.reset();
  EXPECT_EQ(messages_in_file(), 2u);
}

// The writer lock is held only while something is staged: between calls an
// idle MAPI writer lets a plain StoreWriter (another writer) open the file.
TEST_F(SharedStore, AnIdleMapiWriterDoesNotHoldTheWriterLock) {
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "1");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  EXPECT_FALSE(pstkit::filelock::writer_active(path_));
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_EQ(save_message(folder.p, "one"), S_OK);
  EXPECT_FALSE(pstkit::filelock::writer_active(path_));
  {
    auto w = pstkit::StoreWriter::open(path_);
    ASSERT_TRUE(w) << w.status().message();
    pstkit::NewMessage m;
    m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kSubject, "from a StoreWriter"));
    ASSERT_TRUE((*w)->create_message(folder_, m));
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  EXPECT_EQ(contents_rows(folder.p), 2u);
  ASSERT_EQ(save_message(folder.p, "three"), S_OK);
  EXPECT_EQ(contents_rows(folder.p), 3u);
  store.reset();
  folder.reset();
  EXPECT_EQ(messages_in_file(), 3u);
}

// Write-behind: a saved message reaches the file within the delay, not at
// SaveChanges (before, every SaveChanges committed).
TEST_F(SharedStore, WriteBehindCommitsWithinTheDelay) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "300");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  const auto saved = steady_clock::now();
  ASSERT_EQ(save_message(folder.p, "deferred"), S_OK);
  // This process sees it at once; the file does not hold it yet.
  EXPECT_EQ(contents_rows(folder.p), 1u);
  EXPECT_EQ(messages_in_file(), 0u);
  EXPECT_TRUE(pstkit::filelock::writer_active(path_));  // the batch holds the lock
  while (messages_in_file() != 1u && steady_clock::now() - saved < seconds(5)) std::this_thread::sleep_for(10ms);
  const auto took = steady_clock::now() - saved;
  EXPECT_EQ(messages_in_file(), 1u);
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(2000));
  // The committed batch gives the writer lock back: the flusher releases it
  // just after the commit point the file shows, so wait for it (boundedly;
  // a loaded machine may deschedule the flusher between the two).
  const auto committed = steady_clock::now();
  while (pstkit::filelock::writer_active(path_) && steady_clock::now() - committed < seconds(2))
    std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(pstkit::filelock::writer_active(path_));
}

// A lone writer's flusher sleeps until the batch's deadline: nobody opens
// the file, so nothing wakes it (before, it polled for flush requests every
// millisecond, some 300 looks here). Then another open of the file by this
// process (a pstkit reader, which asks nothing) wakes it once and the batch
// stays pending; it commits at its deadline.
TEST_F(SharedStore, ALoneWritersFlusherSleepsUntilTheDeadline) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "600");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  const auto saved = steady_clock::now();
  ASSERT_EQ(save_message(folder.p, "alone"), S_OK);
  const uint64_t looks_before = pstkit::mapi::capi::background_flush_looks();
  std::this_thread::sleep_for(300ms);
  const uint64_t looks = pstkit::mapi::capi::background_flush_looks() - looks_before;
  if (steady_clock::now() - saved < milliseconds(550)) {  // a descheduled test may reach the deadline
    EXPECT_LE(looks, 2u);  // the batch's start, at most
    EXPECT_EQ(messages_in_file(), 0u);
  }
  while (messages_in_file() != 1u && steady_clock::now() - saved < seconds(5)) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(messages_in_file(), 1u);
}

TEST_F(SharedStore, WriteBehindCommitsAFullBatchAtOnce) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "3");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_EQ(save_message(folder.p, "1"), S_OK);
  ASSERT_EQ(save_message(folder.p, "2"), S_OK);
  EXPECT_EQ(messages_in_file(), 0u);
  ASSERT_EQ(save_message(folder.p, "3"), S_OK);
  EXPECT_EQ(messages_in_file(), 3u);
  ASSERT_EQ(save_message(folder.p, "4"), S_OK);
  EXPECT_EQ(messages_in_file(), 3u);
}

TEST_F(SharedStore, WriteBehindFlushesAtStoreLogoffAndAtTheLastRelease) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  {
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
    Ptr<IMAPIFolder> folder;
    ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
    ASSERT_EQ(save_message(folder.p, "before logoff"), S_OK);
    EXPECT_EQ(messages_in_file(), 0u);
    ULONG flags = LOGOFF_ORDERLY;
    ASSERT_EQ(store->StoreLogoff(&flags), S_OK);
    EXPECT_EQ(messages_in_file(), 1u);
  }
  {
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
    Ptr<IMAPIFolder> folder;
    ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
    ASSERT_EQ(save_message(folder.p, "before release"), S_OK);
    EXPECT_EQ(messages_in_file(), 1u);
    folder.reset();
    store.reset();  // the last object of the store
    EXPECT_EQ(messages_in_file(), 2u);
  }
}

// Two store objects of this process on one file (two OpenMsgStore calls,
// different flags): a message one of them saved, still in its write-behind
// batch, is seen by the other's next call at once — the call's catch-up
// commits that batch (the cross-process request leaves this process's
// batches alone). Before, the other saw it only at the batch's commit, at
// the delay (10 s here); the writer lock the batch held went with it, so
// the other writes without waiting either. The stopped flusher shows that
// the calls themselves commit, not the flusher.
TEST_F(SharedStore, AnotherStoreObjectOfTheProcessSeesAMessageSavedInAPendingBatchAtItsNextCall) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "5");  // without the commit, the second's save waits for the lock
  Ptr<IMsgStore> first, second, reader;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, first.out()), S_OK);
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE | MDB_NO_MAIL, second.out()), S_OK);
  ASSERT_EQ(open_pst_store(path_, MDB_NO_MAIL, reader.out()), S_OK);  // read-only
  Ptr<IMAPIFolder> first_folder, second_folder, reader_folder;
  ASSERT_EQ(open_folder(first.p, first_folder.out()), S_OK);
  ASSERT_EQ(open_folder(second.p, second_folder.out()), S_OK);
  ASSERT_EQ(open_folder(reader.p, reader_folder.out(), 0), S_OK);
  EXPECT_EQ(contents_rows(second_folder.p), 0u);
  EXPECT_EQ(contents_rows(reader_folder.p), 0u);
  pstkit::mapi::capi::stop_background_flush();
  const auto start = steady_clock::now();

  ASSERT_EQ(save_message(first_folder.p, "one"), S_OK);
  EXPECT_EQ(messages_in_file(), 0u);  // pending; this process's pstkit readers read the committed state
  EXPECT_EQ(contents_rows(second_folder.p), 1u);
  EXPECT_EQ(messages_in_file(), 1u);  // committed by that call

  ASSERT_EQ(save_message(first_folder.p, "two"), S_OK);
  EXPECT_EQ(contents_rows(reader_folder.p), 2u);

  ASSERT_EQ(save_message(first_folder.p, "three"), S_OK);
  ASSERT_EQ(save_message(second_folder.p, "from the second"), S_OK);
  EXPECT_EQ(messages_in_file(), 3u);  // the first's batch; the second's is pending
  EXPECT_EQ(contents_rows(first_folder.p), 4u);
  EXPECT_EQ(messages_in_file(), 4u);
  EXPECT_LT(steady_clock::now() - start, seconds(5));
  pstkit::mapi::capi::allow_background_flush();
}

// Fast shutdown and MAPIUninitialize stop the flusher: no deferred commit
// runs after stop_background_flush; flush_open_stores then commits.
TEST_F(SharedStore, NoBackgroundFlushAfterStopAndFlushOpenStoresCommits) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "50");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  pstkit::mapi::capi::stop_background_flush();
  ASSERT_EQ(save_message(folder.p, "pending"), S_OK);
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(messages_in_file(), 0u);
  std::string detail;
  EXPECT_EQ(pstkit::mapi::capi::flush_open_stores(&detail), S_OK) << detail;
  EXPECT_EQ(messages_in_file(), 1u);
  pstkit::mapi::capi::allow_background_flush();
  ASSERT_EQ(save_message(folder.p, "timed again"), S_OK);
  const auto saved = steady_clock::now();
  while (messages_in_file() != 2u && steady_clock::now() - saved < seconds(5)) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(messages_in_file(), 2u);
}

// A deferred commit that fails (here: another process's reader keeps the
// commit out past the lock timeout) is reported by the next SaveChanges,
// once; the file keeps its last committed state and checks clean.
TEST_F(SharedStore, AFailedDeferredCommitIsReportedByTheNextSaveChanges) {
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "1");
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "50");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);

  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A pstkit reader of another process: holds the readers lock for 2 s.
    // (This test's file was never read by the parent, so the child does not
    // share a readers descriptor with it.)
    auto db = pstkit::ndb::Database::open(path_);
    const char c = db.is_ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    std::this_thread::sleep_for(2000ms);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ASSERT_EQ(save_message(folder.p, "lost"), S_OK);
  // The flusher tries at 50 ms and waits 1 s for the reader.
  std::this_thread::sleep_for(1500ms);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(messages_in_file(), 0u);
  EXPECT_EQ(save_message(folder.p, "reports"), MAPI_E_BUSY);
  // Reported once: the next save goes through.
  EXPECT_EQ(save_message(folder.p, "kept"), S_OK);
  std::string detail;
  EXPECT_EQ(pstkit::mapi::capi::flush_open_stores(&detail), S_OK) << detail;
  EXPECT_EQ(messages_in_file(), 1u);
}

// Issue 9: the saves of a write-behind batch write the folder's tables once,
// at the commit. Before, each SaveChanges read its message back through a
// view that wrote every staged table anew, and each of those uncommitted
// copies stayed allocated until the commit: 1,000 small messages made a
// 24.9 MB file where `pstkit import` of the same made 3.6 MB. The growth is
// now that of one StoreWriter commit of the same messages, within 1.5 times
// plus the whole AMap regions (253,952 bytes) a file grows by.
TEST_F(SharedStore, ABatchOfSavesGrowsTheFileAboutAsMuchAsOneCommitOfTheSameMessages) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  constexpr int kMessages = 400;
  auto subject = [](int i) { return "Batch message " + std::to_string(i); };
  const uint64_t before = fs::file_size(path_);
  {
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
    Ptr<IMAPIFolder> folder;
    ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
    for (int i = 0; i < kMessages; ++i) ASSERT_EQ(save_message(folder.p, subject(i).c_str()), S_OK);
    EXPECT_EQ(messages_in_file(), 0u);  // one batch
    ULONG flags = LOGOFF_ORDERLY;
    ASSERT_EQ(store->StoreLogoff(&flags), S_OK);
  }
  EXPECT_EQ(messages_in_file(), size_t(kMessages));
  const uint64_t mapi_growth = fs::file_size(path_) - before;

  // The same messages through StoreWriter, one commit, in a twin store.
  const std::string twin = path_ + ".twin.pst";
  fs::remove(twin);
  uint64_t writer_growth = 0;
  {
    auto w = pstkit::StoreWriter::create(twin, pstkit::NewStoreOptions{});
    ASSERT_TRUE(w) << w.status().message();
    auto folder = (*w)->create_folder((*w)->ipm_subtree(), "Shared");
    ASSERT_TRUE(folder);
    ASSERT_TRUE((*w)->commit().is_ok());
    const uint64_t twin_before = fs::file_size(twin);
    for (int i = 0; i < kMessages; ++i) {
      pstkit::NewMessage m;
      const std::string s = subject(i);
      m.properties.push_back(pstkit::ltp::string_value(0x0037, s));  // PidTagSubject
      m.properties.push_back(pstkit::ltp::string_value(0x001A, "IPM.Note"));
      ASSERT_TRUE((*w)->create_message(*folder, m));
    }
    ASSERT_TRUE((*w)->commit().is_ok());
    w->reset();
    writer_growth = fs::file_size(twin) - twin_before;
  }
  fs::remove(twin);
  EXPECT_LE(mapi_growth, writer_growth * 3 / 2 + 2 * 253952)
      << "MAPI batch grew the file by " << mapi_growth << " bytes, one commit of the same by " << writer_growth;
  auto report = pstkit::check::check_file(path_);
  ASSERT_TRUE(report) << report.status().message();
  EXPECT_TRUE(report->clean());
}

// ---- saved changes pending (docs/COMMIT_PROTOCOL.md "Saved changes
// pending"): another process's next call sees a batch this one saved but
// has not committed, at the cost of one commit, well before the delay.

// One byte through a pipe, both ways; false when the other side is gone.
bool send_byte(int fd, char c = 'x') { return ::write(fd, &c, 1) == 1; }
bool receive_byte(int fd) {
  char c = 0;
  return ::read(fd, &c, 1) == 1;
}

// The pending writer of the tests below, in a child forked before the
// parent starts any thread: opens the store for writing, and for each byte
// read from `go` saves one message (subject "pending N") and sends its
// entry ID's length and bytes on `saved`; ends when `go` closes.
// `serve_requests` false: the flusher is stopped first, so that the batch
// stays pending whatever others ask (a process that cannot commit).
[[noreturn]] void pending_writer(const std::string& path, pstkit::Nid folder_nid, int go, int saved,
                                 bool serve_requests) {
  int code = 0;
  {
    if (!serve_requests) pstkit::mapi::capi::stop_background_flush();
    Ptr<IMsgStore> store;
    if (open_pst_store(path, MDB_WRITE, store.out()) != S_OK) ::_exit(20);
    std::array<uint8_t, 16> uid{};
    if (pstkit::mapi::capi::pst_store_record_key(store.p, &uid) != S_OK) ::_exit(21);
    const pstkit::Bytes eid = pstkit::mapi::encode_entry_id(uid, folder_nid);
    Ptr<IMAPIFolder> folder;
    ULONG type = 0;
    if (store->OpenEntry(ULONG(eid.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(eid.data())),
                         &IID_IMAPIFolder, MAPI_MODIFY, &type, folder.unknown()) != S_OK)
      ::_exit(22);
    for (int n = 1; receive_byte(go); ++n) {
      Ptr<IMessage> msg;
      const std::string subject = "pending " + std::to_string(n);
      SPropValue props[2]{};
      props[0].ulPropTag = PR_SUBJECT_A;
      props[0].Value.lpszA = const_cast<char*>(subject.c_str());
      props[1].ulPropTag = PR_MESSAGE_CLASS_A;
      props[1].Value.lpszA = const_cast<char*>("IPM.Note");
      if (folder->CreateMessage(nullptr, 0, msg.out()) != S_OK || msg->SetProps(2, props, nullptr) != S_OK ||
          msg->SaveChanges(KEEP_OPEN_READONLY) != S_OK) {
        code = 23;
        break;
      }
      LPSPropValue id = nullptr;
      if (FAILED(HrGetOneProp(msg.p, PR_ENTRYID, &id))) ::_exit(24);
      const uint8_t size = uint8_t(id->Value.bin.cb);
      if (::write(saved, &size, 1) != 1 || ::write(saved, id->Value.bin.lpb, size) != ssize_t(size)) ::_exit(25);
      MAPIFreeBuffer(id);
    }
  }
  ::_exit(code);
}

pstkit::Bytes receive_entry_id(int fd) {
  uint8_t size = 0;
  if (::read(fd, &size, 1) != 1) return {};
  pstkit::Bytes id(size);
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, id.data() + got, size - got);
    if (n <= 0) return {};
    got += size_t(n);
  }
  return id;
}

// Pipes to and from a forked pending_writer, closed and the child reaped at
// the end of the test (killed if it is still there).
struct PendingWriterChild {
  int go[2] = {-1, -1}, saved[2] = {-1, -1};
  pid_t pid = -1;
  bool start(const std::string& path, pstkit::Nid folder, bool serve_requests) {
    if (::pipe(go) != 0 || ::pipe(saved) != 0) return false;
    pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::close(go[1]);
      ::close(saved[0]);
      pending_writer(path, folder, go[0], saved[1], serve_requests);
    }
    ::close(go[0]);
    ::close(saved[1]);
    return true;
  }
  // Has the child save one more message; its entry ID (empty: it failed).
  pstkit::Bytes save() { return send_byte(go[1]) ? receive_entry_id(saved[0]) : pstkit::Bytes{}; }
  // Ends the child (closing `go`), returns its exit status.
  int finish() {
    ::close(go[1]);
    go[1] = -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    pid = -1;
    return status;
  }
  ~PendingWriterChild() {
    if (go[1] >= 0) ::close(go[1]);
    if (saved[0] >= 0) ::close(saved[0]);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// With write-behind holding its batches 10 s, another process's next
// reader open (the ndb path of `pstkit dump` and `ls`), contents table and
// OpenEntry each see the message saved just before, within a few seconds
// at most (milliseconds unloaded); the writer's batch commits at once at
// their request. Before, they saw it 10 s later.
TEST_F(SharedStore, AnotherProcessesNextCallSeesAMessageSavedInAPendingBatch) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "20");
  PendingWriterChild writer;
  ASSERT_TRUE(writer.start(path_, folder_, true));  // before this process starts threads

  // 1. A pstkit reader (Store::open: open_committed_file).
  ASSERT_FALSE(writer.save().empty());
  auto start = steady_clock::now();
  EXPECT_EQ(messages_in_file(), 1u);
  EXPECT_LT(steady_clock::now() - start, seconds(5));

  // 2. A MAPI store of this process, open before the next save: its
  // contents table sees the second message.
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_FALSE(writer.save().empty());
  start = steady_clock::now();
  EXPECT_EQ(contents_rows(folder.p), 2u);
  EXPECT_LT(steady_clock::now() - start, seconds(5));

  // 3. OpenEntry of the third.
  const pstkit::Bytes third = writer.save();
  ASSERT_FALSE(third.empty());
  start = steady_clock::now();
  Ptr<IMessage> msg;
  ULONG type = 0;
  ASSERT_EQ(store->OpenEntry(ULONG(third.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(third.data())),
                             &IID_IMessage, 0, &type, msg.unknown()),
            S_OK);
  EXPECT_LT(steady_clock::now() - start, seconds(5));
  LPSPropValue subject = nullptr;
  ASSERT_EQ(HrGetOneProp(msg.p, PR_SUBJECT_A, &subject), S_OK);
  EXPECT_STREQ(subject->Value.lpszA, "pending 3");
  MAPIFreeBuffer(subject);

  // 4. A writer (StoreWriter, as `pstkit import`) waits for the writer lock
  // the batch holds: the wait asks for the batch too.
  ASSERT_FALSE(writer.save().empty());
  start = steady_clock::now();
  {
    auto w = pstkit::StoreWriter::open(path_);
    ASSERT_TRUE(w) << w.status().message();
    EXPECT_LT(steady_clock::now() - start, seconds(5));
    pstkit::NewMessage m;
    m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kSubject, "from a StoreWriter"));
    ASSERT_TRUE((*w)->create_message(folder_, m));
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  msg.reset();
  folder.reset();
  store.reset();
  const int status = writer.finish();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(messages_in_file(), 5u);
}

// A pending batch whose process cannot commit it (its flusher stopped) and
// then falls under MAPICrashRecovery's lock: a call waiting for the batch
// fails MAPI_E_BUSY as soon as the lock is taken, not at the timeout (20
// s); a pstkit reader is refused at once. The file keeps its state.
TEST_F(SharedStore, ACallWaitingForABatchOfACrashLockedProcessFailsBusyAtOnce) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "20");
  PendingWriterChild writer;
  ASSERT_TRUE(writer.start(path_, folder_, false));
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_FALSE(writer.save().empty());
  // The crash lock, as MAPICrashRecovery takes it, 300 ms into the wait,
  // held until the test looked (closing the descriptor drops it).
  std::atomic<bool> looked{false};
  std::thread crash([&] {
    std::this_thread::sleep_for(300ms);
    // stdio, not <fcntl.h>, whose LOCK_WRITE mapinix.h defines again.
    std::FILE* file = std::fopen(path_.c_str(), "r+");
    if (file == nullptr) return;
    pstkit::filelock::set_crash_lock(::fileno(file), true);
    while (!looked.load()) std::this_thread::sleep_for(5ms);
    std::fclose(file);
  });
  auto start = steady_clock::now();
  Ptr<IMAPITable> table;
  EXPECT_EQ(folder->GetContentsTable(0, table.out()), MAPI_E_BUSY);
  EXPECT_LT(steady_clock::now() - start, seconds(3));
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(folder->GetLastError(MAPI_E_BUSY, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error->lpszError).find("crash recovery"), std::string::npos) << error->lpszError;
  MAPIFreeBuffer(error);
  start = steady_clock::now();
  auto reader = pstkit::Store::open(path_);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.status().code(), pstkit::Code::kBusy) << reader.status().message();
  EXPECT_LT(steady_clock::now() - start, seconds(1));
  looked = true;
  crash.join();
  table.reset();
  folder.reset();
  store.reset();
}

// A pending writer killed (SIGKILL) while another process's call waits for
// its batch: the kernel drops its locks, the call goes on at once (well
// before the 20 s timeout) and the batch is lost, as documented; the file
// checks clean.
TEST_F(SharedStore, AKilledPendingWriterLetsAWaitingCallGoOnAndItsBatchIsLost) {
  ScopedEnv delay("PSTKIT_MAPI_FLUSH_MS", "10000");
  ScopedEnv batch("PSTKIT_MAPI_BATCH", "1000");
  ScopedEnv timeout("PSTKIT_LOCK_TIMEOUT", "20");
  PendingWriterChild writer;
  ASSERT_TRUE(writer.start(path_, folder_, false));
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> folder;
  ASSERT_EQ(open_folder(store.p, folder.out()), S_OK);
  ASSERT_FALSE(writer.save().empty());
  const pid_t pid = writer.pid;
  std::thread killer([pid] {
    std::this_thread::sleep_for(300ms);
    ::kill(pid, SIGKILL);
  });
  const auto start = steady_clock::now();
  EXPECT_EQ(contents_rows(folder.p), 0u);
  EXPECT_LT(steady_clock::now() - start, seconds(5));
  killer.join();
  const int status = writer.finish();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_EQ(save_message(folder.p, "after the kill"), S_OK);
  folder.reset();
  store.reset();
  EXPECT_EQ(messages_in_file(), 1u);
  auto report = pstkit::check::check_file(path_);
  ASSERT_TRUE(report) << report.status().message();
  EXPECT_TRUE(report->clean());
}

}  // namespace
