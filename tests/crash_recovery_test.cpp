// Issue 10 parts 2 and 3 (docs/MAPI.md "Crash recovery"): the crash lock
// refuses every opener at once, naming the holder; the open-by-MAPI record
// tells a clean last close from users that died; MAPICrashRecovery follows
// its flag rules, flushes and locks consistent stores only, and CONTINUE
// lifts the lock except after SYSTEM_SHUTDOWN.
// tests/scripts/test_crash_recovery.py runs the same with real crashes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "mapi/com_prop.h"
#include "mapi/open_record.h"
#include "mapi/open_stores.h"
#include "mapi/pst_store.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"
#include "util/file_lock.h"

namespace {

namespace fs = std::filesystem;
using pstkit::Code;
using pstkit::mapi::capi::OpenRecord;
using pstkit::mapi::capi::StoreState;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class CrashRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("pstkit-crashrec-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.pst").string();
    auto w = pstkit::StoreWriter::create(path_, pstkit::NewStoreOptions{});
    ASSERT_TRUE(w.is_ok()) << w.status().message();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Does another descriptor (any process) see the file crash-locked?
  bool crash_locked() const { return !pstkit::filelock::check_crash_lock(path_).is_ok(); }
  char record_state() const {
    const std::string r = read_all(OpenRecord::path_for(path_));
    return r.size() == 16 ? r[15] : 0;
  }
  std::shared_ptr<StoreState> state_of(const std::string& path) {
    std::shared_ptr<StoreState> found;
    pstkit::mapi::capi::for_each_open_store([&](const std::shared_ptr<StoreState>& s) {
      if (s->path == path) found = s;
    });
    return found;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(CrashRecovery, CrashLockRefusesReadersAndWritersAtOnceNamingTheHolder) {
  // Another descriptor of the file, open for writing (<fcntl.h> and
  // mapinix.h disagree on LOCK_WRITE).
  std::FILE* file = std::fopen(path_.c_str(), "r+");
  ASSERT_NE(file, nullptr);
  const int fd = ::fileno(file);
  ASSERT_TRUE(pstkit::filelock::set_crash_lock(fd, true));
  const auto t0 = std::chrono::steady_clock::now();
  auto reader = pstkit::Store::open(path_);
  auto writer = pstkit::StoreWriter::open(path_);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));  // no 60 s lock wait
  ASSERT_FALSE(reader.is_ok());
  ASSERT_FALSE(writer.is_ok());
  EXPECT_EQ(reader.status().code(), Code::kBusy);
  EXPECT_EQ(writer.status().code(), Code::kBusy);
  const std::string holder = "crash recovery of pid " + std::to_string(::getpid());
  EXPECT_NE(reader.status().message().find(holder), std::string::npos) << reader.status().message();
  EXPECT_NE(writer.status().message().find("MAPICrashRecovery"), std::string::npos) << writer.status().message();
  pstkit::filelock::clear_crash_lock(fd);
  EXPECT_TRUE(pstkit::Store::open(path_).is_ok());
  EXPECT_TRUE(pstkit::StoreWriter::open(path_).is_ok());
  // The lock dies with its descriptor (with the process).
  ASSERT_TRUE(pstkit::filelock::set_crash_lock(fd, true));
  std::fclose(file);
  EXPECT_TRUE(pstkit::Store::open(path_).is_ok());
}

TEST_F(CrashRecovery, RecordTellsACleanLastCloseFromUsersThatDied) {
  bool improper = true;
  {
    auto first = OpenRecord::open_writer(path_, &improper);
    ASSERT_TRUE(first.is_ok()) << first.status().message();
    EXPECT_FALSE(improper);  // a new record
    EXPECT_EQ(record_state(), 'O');
    auto second = OpenRecord::open_writer(path_, &improper);
    ASSERT_TRUE(second.is_ok());
    EXPECT_FALSE(improper);  // the first is alive
    first->reset();
    EXPECT_EQ(record_state(), 'O');  // not the last user
  }
  EXPECT_EQ(record_state(), 'C');  // the last one closed it
  {
    auto again = OpenRecord::open_writer(path_, &improper);
    ASSERT_TRUE(again.is_ok());
    EXPECT_FALSE(improper);
  }
  // A user that dies without closing (its destructor never runs).
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ignored = false;
    auto r = OpenRecord::open_writer(path_, &ignored);
    ::_exit(r.is_ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(record_state(), 'O');
  EXPECT_TRUE(OpenRecord::peek_improper_close(path_));  // a reader sees it, writing nothing
  EXPECT_EQ(record_state(), 'O');
  {
    auto next = OpenRecord::open_writer(path_, &improper);
    ASSERT_TRUE(next.is_ok());
    EXPECT_TRUE(improper);
    EXPECT_FALSE(OpenRecord::peek_improper_close(path_));  // a live user holds it
  }
  EXPECT_EQ(record_state(), 'C');
  // A damaged record counts as an improper close.
  {
    std::ofstream(OpenRecord::path_for(path_), std::ios::binary | std::ios::trunc) << "garbage";
  }
  auto damaged = OpenRecord::open_writer(path_, &improper);
  ASSERT_TRUE(damaged.is_ok());
  EXPECT_TRUE(improper);
  EXPECT_EQ(record_state(), 'O');
}

TEST_F(CrashRecovery, RecordInAReadOnlyDirectoryIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  bool improper = false;
  auto r = OpenRecord::open_writer(path_, &improper);
  fs::permissions(dir_, fs::perms::owner_all);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(".pstkit-open"), std::string::npos) << r.status().message();
}

// What root (as CI runs) meets instead of a read-only directory: a record
// that cannot be created or opened for writing is a clear error naming it,
// never a hang, and the store stays as it was.
TEST_F(CrashRecovery, RecordThatCannotBeWrittenIsAClearError) {
  const std::string record = OpenRecord::path_for(path_);
  fs::create_directory(record);  // a directory where the record file belongs
  const auto before = fs::file_size(path_);
  bool improper = false;
  auto r = OpenRecord::open_writer(path_, &improper);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(".pstkit-open"), std::string::npos) << r.status().message();
  EXPECT_EQ(fs::file_size(path_), before);
  EXPECT_FALSE(OpenRecord::peek_improper_close(path_));  // a reader is not misled either
  fs::remove(record);
}

// MAPICrashRecovery through a store opened like a session opens it.
class MapiCrashRecovery : public CrashRecovery {
 protected:
  void SetUp() override {
    CrashRecovery::SetUp();
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    ASSERT_EQ(pstkit::mapi::capi::open_pst_store(path_, MDB_WRITE, &store_), S_OK);
  }
  void TearDown() override {
    if (store_) store_->Release();
    MAPIUninitialize();
    CrashRecovery::TearDown();
  }
  HRESULT open_root() {
    ULONG type = 0;
    LPUNKNOWN root = nullptr;
    const HRESULT hr = store_->OpenEntry(0, nullptr, nullptr, 0, &type, &root);
    if (root) root->Release();
    return hr;
  }
  LPMDB store_ = nullptr;
};

TEST_F(MapiCrashRecovery, FlagRules) {
  // Neither, both, SYSTEM_SHUTDOWN without RECOVER, an unknown flag: nothing.
  for (ULONG flags : {ULONG(0), MAPICRASH_RECOVER | MAPICRASH_CONTINUE, MAPICRASH_SYSTEM_SHUTDOWN,
                      MAPICRASH_CONTINUE | MAPICRASH_SYSTEM_SHUTDOWN, MAPICRASH_RECOVER | ULONG(0x100)}) {
    MAPICrashRecovery(flags);
    EXPECT_FALSE(crash_locked()) << std::hex << flags;
    EXPECT_EQ(open_root(), S_OK) << std::hex << flags;
  }
  EXPECT_EQ(record_state(), 'O');
  // RECOVER (the provider byte is passed over): flushed, locked, marked closed.
  MAPICrashRecovery(MAPICRASH_RECOVER | ULONG(0x01000000));
  EXPECT_TRUE(crash_locked());
  EXPECT_EQ(record_state(), 'C');
  EXPECT_EQ(open_root(), MAPI_E_BUSY);  // this process's own calls too
  auto refused = pstkit::Store::open(path_);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::kBusy);
  LPMDB second = nullptr;
  EXPECT_EQ(pstkit::mapi::capi::open_pst_store(path_, 0, &second), MAPI_E_BUSY);
  // CONTINUE lifts it, and the store is open again.
  MAPICrashRecovery(MAPICRASH_CONTINUE);
  EXPECT_FALSE(crash_locked());
  EXPECT_EQ(record_state(), 'O');
  EXPECT_EQ(open_root(), S_OK);
  EXPECT_TRUE(pstkit::Store::open(path_).is_ok());
}

TEST_F(MapiCrashRecovery, TheLastMapiUninitializeClosesTheRecordOfStoresStillHeld) {
  EXPECT_EQ(record_state(), 'O');
  MAPIUninitialize();  // the client still holds store_
  EXPECT_EQ(record_state(), 'C');
  ASSERT_EQ(MAPIInitialize(nullptr), S_OK);  // balances the fixture's TearDown
  bool improper = true;
  store_->Release();
  store_ = nullptr;
  auto next = OpenRecord::open_writer(path_, &improper);
  ASSERT_TRUE(next.is_ok());
  EXPECT_FALSE(improper);
}

TEST_F(MapiCrashRecovery, AnUpdateInProgressIsNotFlushedNorLocked) {
  auto state = state_of(path_);
  ASSERT_TRUE(state);
  // Another thread in the middle of an update holds the store's mutex.
  std::atomic<bool> holding{false}, release{false};
  std::thread updater([&] {
    std::lock_guard lock(state->mutex);
    holding = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto t0 = std::chrono::steady_clock::now();
  MAPICrashRecovery(MAPICRASH_RECOVER);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(crash_locked());
  EXPECT_EQ(record_state(), 'O');  // the next open will check it
  release = true;
  updater.join();
  MAPICrashRecovery(MAPICRASH_RECOVER);
  EXPECT_TRUE(crash_locked());
  MAPICrashRecovery(MAPICRASH_CONTINUE);
  EXPECT_FALSE(crash_locked());
}

TEST_F(MapiCrashRecovery, SystemShutdownCannotBeContinuedAndLastsUntilTheProcessEnds) {
  // In a child: the lock would last for the rest of this test program.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (PstkitInstallCrashHandlers(0) != S_OK) ::_exit(2);  // this process's recovery thread
    MAPICrashRecovery(MAPICRASH_RECOVER | MAPICRASH_SYSTEM_SHUTDOWN);
    const bool locked = crash_locked();
    MAPICrashRecovery(MAPICRASH_CONTINUE);
    const bool still = crash_locked();
    store_->Release();  // releasing the store does not lift it either
    store_ = nullptr;
    const bool after_release = crash_locked();
    ::_exit(locked && still && after_release ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(crash_locked());  // the child ended
  EXPECT_EQ(open_root(), S_OK);
}

}  // namespace
