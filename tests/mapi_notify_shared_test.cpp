// Notifications across processes and across store objects (issues 9 and 10,
// docs/MAPI.md "Notifications across processes"): what another process or
// another IMsgStore object of this one commits to a store reaches this
// store's sinks — object notifications with entry IDs and parent IDs, and
// table notifications on its advised contents tables — without this process
// making a call (the change watch delivers them).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mapi/pst_store.h"
#include "mapi_test_ptr.h"
#include "pstkit/mapi/mapitags.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

using pstkit::mapi::capi::open_pst_store;
using namespace std::chrono;

namespace {

namespace fs = std::filesystem;
using mapi_test::Ptr;
using Bytes = pstkit::Bytes;

Bytes bytes_of(const void* p, ULONG n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return p == nullptr ? Bytes{} : Bytes(b, b + n);
}

// What a sink received, recorded from whichever thread delivered it.
class Recorder {
 public:
  struct Object {
    ULONG event = 0, type = 0;
    Bytes id, parent, old_id, old_parent;
  };
  struct Row {
    ULONG event = 0;
    Bytes key;
  };
  static LONG STDAPICALLTYPE callback(LPVOID context, ULONG count, LPNOTIFICATION n) {
    auto* self = static_cast<Recorder*>(context);
    std::lock_guard lock(self->mutex_);
    for (ULONG i = 0; i < count; ++i) {
      if (n[i].ulEventType == fnevTableModified) {
        const TABLE_NOTIFICATION& t = n[i].info.tab;
        Row r{t.ulTableEvent, {}};
        if (t.propIndex.ulPropTag == PR_INSTANCE_KEY) r.key = bytes_of(t.propIndex.Value.bin.lpb, t.propIndex.Value.bin.cb);
        self->rows_.push_back(std::move(r));
      } else {
        const OBJECT_NOTIFICATION& o = n[i].info.obj;
        self->objects_.push_back({n[i].ulEventType, o.ulObjType, bytes_of(o.lpEntryID, o.cbEntryID),
                                  bytes_of(o.lpParentID, o.cbParentID), bytes_of(o.lpOldID, o.cbOldID),
                                  bytes_of(o.lpOldParentID, o.cbOldParentID)});
      }
    }
    self->changed_.notify_all();
    return 0;
  }
  // Waits until `n` object notifications (or table rows) arrived, at most `limit`.
  bool wait_objects(size_t n, milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return objects_.size() >= n; });
  }
  bool wait_rows(size_t n, milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return rows_.size() >= n; });
  }
  std::vector<Object> objects() {
    std::lock_guard lock(mutex_);
    return objects_;
  }
  std::vector<Row> rows() {
    std::lock_guard lock(mutex_);
    return rows_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Object> objects_;
  std::vector<Row> rows_;
};

// A sink over a Recorder.
struct Sink {
  Recorder recorder;
  Ptr<IMAPIAdviseSink> sink;
  Sink() { EXPECT_EQ(HrAllocAdviseSink(&Recorder::callback, &recorder, sink.out()), S_OK); }
};

constexpr ULONG kObjectEvents =
    fnevObjectCreated | fnevObjectModified | fnevObjectDeleted | fnevObjectMoved | fnevObjectCopied;

// ---- the writer's side: steps reported through a pipe

void write_blob(int fd, const Bytes& b) {
  const uint32_t n = uint32_t(b.size());
  if (::write(fd, &n, 4) != 4 || (n != 0 && ::write(fd, b.data(), n) != ssize_t(n))) ::_exit(90);
}
Bytes read_blob(int fd) {
  uint32_t n = 0;
  if (::read(fd, &n, 4) != 4) return {};
  Bytes b(n);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, b.data() + got, n - got);
    if (r <= 0) return {};
    got += size_t(r);
  }
  return b;
}

Bytes entry_id_prop(LPMAPIPROP object) {
  LPSPropValue v = nullptr;
  if (FAILED(HrGetOneProp(object, PR_ENTRYID, &v))) return {};
  Bytes out = bytes_of(v->Value.bin.lpb, v->Value.bin.cb);
  MAPIFreeBuffer(v);
  return out;
}

HRESULT set_subject(LPMESSAGE msg, const char* subject) {
  SPropValue props[2]{};
  props[0].ulPropTag = PR_SUBJECT_A;
  props[0].Value.lpszA = const_cast<char*>(subject);
  props[1].ulPropTag = PR_MESSAGE_CLASS_A;
  props[1].Value.lpszA = const_cast<char*>("IPM.Note");
  return msg->SetProps(2, props, nullptr);
}

HRESULT open_by_id(LPMDB store, const Bytes& id, LPCIID iid, ULONG flags, LPUNKNOWN* out) {
  ULONG type = 0;
  return store->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(id.data())), iid, flags,
                          &type, out);
}

// The writer's script: each step commits, sends what the reader needs to
// check it (entry IDs), then waits for the reader's go-ahead (one byte), so
// that every step is seen on its own. Returns 0 or the failing step.
int run_writer_steps(LPMDB store, const Bytes& folder_id, int to_reader, int from_reader) {
  auto step_done = [&](const Bytes& payload) {
    write_blob(to_reader, payload);
    char go = 0;
    return ::read(from_reader, &go, 1) == 1;
  };
  Ptr<IMAPIFolder> folder;
  if (FAILED(open_by_id(store, folder_id, &IID_IMAPIFolder, MAPI_MODIFY, folder.unknown()))) return 1;
  // The reader says when its sinks are advised.
  char start = 0;
  if (::read(from_reader, &start, 1) != 1) return 1;
  // 1. a new message
  Ptr<IMessage> one;
  if (FAILED(folder->CreateMessage(nullptr, 0, one.out())) || FAILED(set_subject(one.p, "one")) ||
      FAILED(one->SaveChanges(KEEP_OPEN_READWRITE)))
    return 2;
  const Bytes one_id = entry_id_prop(one.p);
  if (!step_done(one_id)) return 2;
  // 2. the message modified
  if (FAILED(set_subject(one.p, "one, changed")) || FAILED(one->SaveChanges(KEEP_OPEN_READWRITE))) return 3;
  if (!step_done(one_id)) return 3;
  // 3. a second message
  Ptr<IMessage> two;
  if (FAILED(folder->CreateMessage(nullptr, 0, two.out())) || FAILED(set_subject(two.p, "two")) ||
      FAILED(two->SaveChanges(0)))
    return 4;
  const Bytes two_id = entry_id_prop(two.p);
  if (!step_done(two_id)) return 4;
  // 4. a subfolder
  Ptr<IMAPIFolder> sub;
  if (FAILED(folder->CreateFolder(FOLDER_GENERIC, LPTSTR("Sub"), nullptr, nullptr, 0, sub.out()))) return 5;
  const Bytes sub_id = entry_id_prop(sub.p);
  if (!step_done(sub_id)) return 5;
  // 5. the second message moved into it
  SBinary bin{ULONG(two_id.size()), const_cast<LPBYTE>(two_id.data())};
  ENTRYLIST list{1, &bin};
  if (folder->CopyMessages(&list, nullptr, sub.p, 0, nullptr, MESSAGE_MOVE) != S_OK) return 6;
  if (!step_done(two_id)) return 6;
  // 6. the first message deleted
  SBinary first{ULONG(one_id.size()), const_cast<LPBYTE>(one_id.data())};
  ENTRYLIST first_list{1, &first};
  one.reset();
  if (folder->DeleteMessages(&first_list, 0, nullptr, 0) != S_OK) return 7;
  if (!step_done(one_id)) return 7;
  return 0;
}

class SharedNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("PSTKIT_MAPI_BATCH", "1", 1);  // every SaveChanges commits: one change per step
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    path_ = ::testing::TempDir() + "shared_notify_" + std::to_string(::getpid()) + "_" +
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
    ::unsetenv("PSTKIT_MAPI_BATCH");
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_ + "-journal", ec);
    fs::remove(path_ + ".pstkit-open", ec);
  }

  Bytes folder_id(LPMDB store) {
    std::array<uint8_t, 16> uid{};
    EXPECT_EQ(pstkit::mapi::capi::pst_store_record_key(store, &uid), S_OK);
    return pstkit::mapi::encode_entry_id(uid, folder_);
  }

  // The reader's side of run_writer_steps: advised on the store, on the
  // folder and on the folder's contents table, it checks each step's
  // notifications as they arrive (no call on the store meanwhile).
  void check_steps(LPMDB reader, int from_writer, int to_writer) {
    const Bytes folder = folder_id(reader);
    Sink store_sink, folder_sink, table_sink;
    ULONG_PTR c1 = 0, c2 = 0, c3 = 0;
    ASSERT_EQ(reader->Advise(0, nullptr, kObjectEvents, store_sink.sink.p, &c1), S_OK);
    ASSERT_EQ(reader->Advise(ULONG(folder.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(folder.data())),
                             kObjectEvents, folder_sink.sink.p, &c2),
              S_OK);
    Ptr<IMAPIFolder> shared;
    ASSERT_EQ(open_by_id(reader, folder, &IID_IMAPIFolder, 0, shared.unknown()), S_OK);
    Ptr<IMAPITable> contents;
    ASSERT_EQ(shared->GetContentsTable(0, contents.out()), S_OK);
    SizedSPropTagArray(2, columns) = {2, {PR_INSTANCE_KEY, PR_SUBJECT_A}};
    ASSERT_EQ(contents->SetColumns(reinterpret_cast<LPSPropTagArray>(&columns), 0), S_OK);
    ASSERT_EQ(contents->Advise(fnevTableModified, table_sink.sink.p, &c3), S_OK);
    const char advised = 1;
    ASSERT_EQ(::write(to_writer, &advised, 1), 1);  // the writer starts now

    struct Expect {
      ULONG event, type;
      bool parent_is_folder;  // else the parent is the subfolder (step 4's ID)
      ULONG row_event;        // 0: no table notification
    };
    const Expect steps[] = {
        {fnevObjectCreated, MAPI_MESSAGE, true, TABLE_ROW_ADDED},
        {fnevObjectModified, MAPI_MESSAGE, true, TABLE_ROW_MODIFIED},
        {fnevObjectCreated, MAPI_MESSAGE, true, TABLE_ROW_ADDED},
        {fnevObjectCreated, MAPI_FOLDER, true, 0},
        {fnevObjectMoved, MAPI_MESSAGE, false, TABLE_ROW_DELETED},
        {fnevObjectDeleted, MAPI_MESSAGE, true, TABLE_ROW_DELETED},
    };
    Bytes sub;
    size_t rows = 0;
    milliseconds slowest{0};
    for (size_t i = 0; i < std::size(steps); ++i) {
      SCOPED_TRACE("step " + std::to_string(i + 1));
      const Bytes id = read_blob(from_writer);
      ASSERT_FALSE(id.empty()) << "the writer failed";
      const auto sent = steady_clock::now();
      if (i == 3) sub = id;
      const Expect& e = steps[i];
      ASSERT_TRUE(store_sink.recorder.wait_objects(i + 1, seconds(5)));
      if (e.row_event != 0) {
        ASSERT_TRUE(table_sink.recorder.wait_rows(rows + 1, seconds(5)));
        ++rows;
      }
      slowest = std::max(slowest, duration_cast<milliseconds>(steady_clock::now() - sent));
      // Nothing more arrives for the step.
      std::this_thread::sleep_for(milliseconds(150));
      const auto objects = store_sink.recorder.objects();
      ASSERT_EQ(objects.size(), i + 1);
      const auto& n = objects[i];
      EXPECT_EQ(n.event, e.event);
      EXPECT_EQ(n.type, e.type);
      EXPECT_EQ(n.id, id);
      EXPECT_EQ(n.parent, e.parent_is_folder ? folder : sub);
      if (e.event == fnevObjectMoved) {
        EXPECT_EQ(n.old_id, id);
        EXPECT_EQ(n.old_parent, folder);
      } else {
        EXPECT_TRUE(n.old_id.empty());
        EXPECT_TRUE(n.old_parent.empty());
      }
      const auto table_rows = table_sink.recorder.rows();
      ASSERT_EQ(table_rows.size(), rows);
      if (e.row_event != 0) {
        EXPECT_EQ(table_rows.back().event, e.row_event);
      }
      const char go = 1;
      ASSERT_EQ(::write(to_writer, &go, 1), 1);
    }
    // The folder's sink got what concerns the folder: every step, the move
    // too (its old parent), all with the same IDs.
    const auto on_folder = folder_sink.recorder.objects();
    ASSERT_EQ(on_folder.size(), std::size(steps));
    for (size_t i = 0; i < on_folder.size(); ++i) EXPECT_EQ(on_folder[i].event, steps[i].event);
    EXPECT_LT(slowest, milliseconds(2000)) << "the slowest step took " << slowest.count() << " ms";
    std::printf("slowest step notified after %lld ms\n", static_cast<long long>(slowest.count()));
    EXPECT_EQ(contents->Unadvise(c3), S_OK);
    EXPECT_EQ(reader->Unadvise(c2), S_OK);
    EXPECT_EQ(reader->Unadvise(c1), S_OK);
  }

  std::string path_;
  pstkit::Nid folder_ = 0;
};

// Another process commits: before, its changes reached only its own sinks.
TEST_F(SharedNotify, AnotherProcessesCommitsReachThisProcesssStoreFolderAndTableSinks) {
  // Fork before this process starts any thread (the store's flusher and
  // watch threads): a child forked while a thread holds the allocator's
  // lock (ASan's) would wait for it forever.
  int to_reader[2], to_writer[2];
  ASSERT_EQ(::pipe(to_reader), 0);
  ASSERT_EQ(::pipe(to_writer), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_reader[0]);
    ::close(to_writer[1]);
    LPMDB store = nullptr;
    int rc = open_pst_store(path_, MDB_WRITE, &store) == S_OK ? 0 : 80;
    if (rc == 0) rc = run_writer_steps(store, folder_id(store), to_reader[1], to_writer[0]);
    if (store) store->Release();
    if (rc != 0) write_blob(to_reader[1], {});
    ::_exit(rc);
  }
  ::close(to_reader[1]);
  ::close(to_writer[0]);
  Ptr<IMsgStore> reader;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, reader.out()), S_OK);
  check_steps(reader.p, to_reader[0], to_writer[1]);
  ::close(to_writer[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
  ::close(to_reader[0]);
}

// Two IMsgStore objects of one process on one file: the same, from a thread.
TEST_F(SharedNotify, AnotherStoreObjectsCommitsInThisProcessReachTheOthersSinks) {
  Ptr<IMsgStore> reader, writer;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, reader.out()), S_OK);
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, writer.out()), S_OK);
  int to_reader[2], to_writer[2];
  ASSERT_EQ(::pipe(to_reader), 0);
  ASSERT_EQ(::pipe(to_writer), 0);
  const Bytes folder = folder_id(writer.p);
  int rc = -1;
  std::thread thread([&] {
    rc = run_writer_steps(writer.p, folder, to_reader[1], to_writer[0]);
    if (rc != 0) write_blob(to_reader[1], {});
  });
  check_steps(reader.p, to_reader[0], to_writer[1]);
  if (::testing::Test::HasFatalFailure()) {
    ::close(to_writer[1]);  // the writer's read fails: it ends
  }
  thread.join();
  EXPECT_EQ(rc, 0);
  for (int fd : {to_reader[0], to_reader[1], to_writer[0], to_writer[1]}) ::close(fd);
}

// A store opened read-only (no MDB_WRITE) follows the file too: before, it
// held the readers lock for its life, so the writer's commits waited for it
// (and failed after the timeout), and it never saw them.
TEST_F(SharedNotify, AReadOnlyStoreLetsOthersCommitAndGetsTheirNotifications) {
  ::setenv("PSTKIT_LOCK_TIMEOUT", "2", 1);
  // Fork before this process starts any thread (the store's flusher and
  // watch threads): a child forked while a thread holds the allocator's
  // lock (ASan's) would wait for it forever.
  int to_reader[2], to_writer[2];
  ASSERT_EQ(::pipe(to_reader), 0);
  ASSERT_EQ(::pipe(to_writer), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_reader[0]);
    ::close(to_writer[1]);
    LPMDB store = nullptr;
    int rc = open_pst_store(path_, MDB_WRITE, &store) == S_OK ? 0 : 80;
    if (rc == 0) rc = run_writer_steps(store, folder_id(store), to_reader[1], to_writer[0]);
    if (store) store->Release();
    if (rc != 0) write_blob(to_reader[1], {});
    ::_exit(rc);
  }
  ::close(to_reader[1]);
  ::close(to_writer[0]);
  Ptr<IMsgStore> reader;
  ASSERT_EQ(open_pst_store(path_, 0, reader.out()), S_OK);
  check_steps(reader.p, to_reader[0], to_writer[1]);
  ::close(to_writer[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::unsetenv("PSTKIT_LOCK_TIMEOUT");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
  ::close(to_reader[0]);
  // And what it reads is the file as the writer left it: "one" deleted,
  // "two" moved away.
  Ptr<IMAPIFolder> shared;
  ASSERT_EQ(open_by_id(reader.p, folder_id(reader.p), &IID_IMAPIFolder, 0, shared.unknown()), S_OK);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(shared->GetContentsTable(0, contents.out()), S_OK);
  ULONG rows = 99;
  ASSERT_EQ(contents->GetRowCount(0, &rows), S_OK);
  EXPECT_EQ(rows, 0u);
  Ptr<IMAPITable> hierarchy;
  ASSERT_EQ(shared->GetHierarchyTable(0, hierarchy.out()), S_OK);
  ASSERT_EQ(hierarchy->GetRowCount(0, &rows), S_OK);
  EXPECT_EQ(rows, 1u);  // "Sub"
}

// A store another process locked with MAPICrashRecovery after this one
// opened it: every call fails MAPI_E_BUSY, naming the crash recovery, until
// that process ends (before, only commits and OpenEntry were refused).
TEST_F(SharedNotify, CallsOnAStoreCrashLockedByAnotherProcessFailBusyUntilItEnds) {
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  const Bytes folder = folder_id(store.p);
  Ptr<IMAPIFolder> shared;
  ASSERT_EQ(open_by_id(store.p, folder, &IID_IMAPIFolder, MAPI_MODIFY, shared.unknown()), S_OK);
  // The crashing client of test_crash_recovery.py: it saves a message in
  // each of three stores (this one first), crashes, and its handler runs
  // MAPICrashRecovery(MAPICRASH_RECOVER), then stops.
  const std::string client = fs::path(PSTKIT_CLI_PATH).parent_path() / "mapi_crash_client";
  const std::string b = path_ + ".b.pst", c = path_ + ".c.pst", profiles = path_ + ".profiles";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setenv("PSTKIT_PROFILE_DIR", profiles.c_str(), 1);
    ::execl(client.c_str(), client.c_str(), "run", "segv", "1", path_.c_str(), b.c_str(), c.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, WUNTRACED), child);
  ASSERT_TRUE(WIFSTOPPED(status)) << "the client did not stop after its recovery: status " << status;
  LPSPropValue value = nullptr;
  EXPECT_EQ(HrGetOneProp(shared.p, PR_DISPLAY_NAME_A, &value), MAPI_E_BUSY);
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(shared->GetLastError(MAPI_E_BUSY, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error->lpszError).find("crash recovery"), std::string::npos) << error->lpszError;
  MAPIFreeBuffer(error);
  Ptr<IMAPITable> table;
  EXPECT_EQ(shared->GetContentsTable(0, table.out()), MAPI_E_BUSY);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::error_code ec;
  for (const auto& f : {b, c}) {
    fs::remove(f, ec);
    fs::remove(f + ".pstkit-open", ec);
  }
  fs::remove_all(profiles, ec);
  ASSERT_EQ(HrGetOneProp(shared.p, PR_DISPLAY_NAME_A, &value), S_OK);
  EXPECT_STREQ(value->Value.lpszA, "Shared");
  MAPIFreeBuffer(value);
  EXPECT_EQ(shared->GetContentsTable(0, table.out()), S_OK);
}

// A writer that is not MAPI (what `pstkit import` does: StoreWriter, many
// messages in one commit): one TABLE_ROW_ADDED per new row, one
// fnevObjectCreated per message.
TEST_F(SharedNotify, ANonMapiWritersMessagesBecomeRowAddedNotifications) {
  // The writer is forked before this process starts its threads (see
  // above) and waits for the sinks to be advised.
  constexpr int kMessages = 25;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(go[1]);
    char start = 0;
    if (::read(go[0], &start, 1) != 1) ::_exit(4);
    auto w = pstkit::StoreWriter::open(path_);
    if (!w) ::_exit(1);
    for (int i = 0; i < kMessages; ++i) {
      pstkit::NewMessage m;
      const std::string subject = "imported " + std::to_string(i);
      m.properties.push_back({0x0037001F, pstkit::utf8_to_utf16le(subject)});
      if (!(*w)->create_message(folder_, m)) ::_exit(2);
    }
    ::_exit((*w)->commit().is_ok() ? 0 : 3);
  }
  ::close(go[0]);
  Ptr<IMsgStore> reader;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, reader.out()), S_OK);
  const Bytes folder = folder_id(reader.p);
  Sink store_sink, table_sink;
  ULONG_PTR c1 = 0, c2 = 0;
  ASSERT_EQ(reader->Advise(0, nullptr, kObjectEvents, store_sink.sink.p, &c1), S_OK);
  Ptr<IMAPIFolder> shared;
  ASSERT_EQ(open_by_id(reader.p, folder, &IID_IMAPIFolder, 0, shared.unknown()), S_OK);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(shared->GetContentsTable(0, contents.out()), S_OK);
  ASSERT_EQ(contents->Advise(fnevTableModified, table_sink.sink.p, &c2), S_OK);
  const char start = 1;
  ASSERT_EQ(::write(go[1], &start, 1), 1);
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(table_sink.recorder.wait_rows(kMessages, seconds(5)));
  ASSERT_TRUE(store_sink.recorder.wait_objects(kMessages, seconds(5)));
  std::this_thread::sleep_for(milliseconds(200));
  const auto rows = table_sink.recorder.rows();
  ASSERT_EQ(rows.size(), size_t(kMessages));
  for (const auto& r : rows) EXPECT_EQ(r.event, ULONG(TABLE_ROW_ADDED));
  const auto objects = store_sink.recorder.objects();
  ASSERT_EQ(objects.size(), size_t(kMessages));
  for (const auto& o : objects) {
    EXPECT_EQ(o.event, ULONG(fnevObjectCreated));
    EXPECT_EQ(o.type, ULONG(MAPI_MESSAGE));
    EXPECT_EQ(o.parent, folder);
  }
  EXPECT_EQ(contents->Unadvise(c2), S_OK);
  EXPECT_EQ(reader->Unadvise(c1), S_OK);
}

// In one store object: a move is one notification for a sink advised on
// the whole store (before, the old folder's delivery reached it again).
TEST_F(SharedNotify, AMoveIsNotifiedOnceToAStoreSinkAndToTheOldFoldersSink) {
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store.out()), S_OK);
  const Bytes folder = folder_id(store.p);
  Ptr<IMAPIFolder> shared, sub;
  ASSERT_EQ(open_by_id(store.p, folder, &IID_IMAPIFolder, MAPI_MODIFY, shared.unknown()), S_OK);
  ASSERT_EQ(shared->CreateFolder(FOLDER_GENERIC, LPTSTR("Sub"), nullptr, nullptr, 0, sub.out()), S_OK);
  Ptr<IMessage> msg;
  ASSERT_EQ(shared->CreateMessage(nullptr, 0, msg.out()), S_OK);
  ASSERT_EQ(set_subject(msg.p, "moved"), S_OK);
  ASSERT_EQ(msg->SaveChanges(0), S_OK);
  const Bytes id = entry_id_prop(msg.p);
  msg.reset();
  Sink store_sink, folder_sink;
  ULONG_PTR c1 = 0, c2 = 0;
  ASSERT_EQ(store->Advise(0, nullptr, kObjectEvents, store_sink.sink.p, &c1), S_OK);
  ASSERT_EQ(store->Advise(ULONG(folder.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(folder.data())),
                          kObjectEvents, folder_sink.sink.p, &c2),
            S_OK);
  SBinary bin{ULONG(id.size()), const_cast<LPBYTE>(id.data())};
  ENTRYLIST list{1, &bin};
  ASSERT_EQ(shared->CopyMessages(&list, nullptr, sub.p, 0, nullptr, MESSAGE_MOVE), S_OK);
  const auto on_store = store_sink.recorder.objects();
  ASSERT_EQ(on_store.size(), 1u);
  EXPECT_EQ(on_store[0].event, ULONG(fnevObjectMoved));
  EXPECT_EQ(on_store[0].old_parent, folder);
  EXPECT_EQ(folder_sink.recorder.objects().size(), 1u);
  EXPECT_EQ(store->Unadvise(c2), S_OK);
  EXPECT_EQ(store->Unadvise(c1), S_OK);
}

// fnevNewMail across processes (docs/MAPI.md "New mail across
// processes"): a message another process creates in the receive folder of
// its class (here the default one, the IPM subtree's Inbox), unread and not
// a draft, is new mail to this process's fnevNewMail sinks, with the
// NEWMAIL_NOTIFICATION fields filled (newmail_notification.md); a read
// message, a draft and a message in another folder are not. Before,
// fnevNewMail reached only the sinks of the process that called
// NotifyNewMail.
struct NewMail {
  Bytes id, parent;
  ULONG flags = 0, message_flags = 0;
  std::string message_class;
};
struct NewMailRecorder {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<NewMail> mails;
  ULONG other_events = 0;
  static LONG STDAPICALLTYPE callback(LPVOID context, ULONG count, LPNOTIFICATION n) {
    auto* self = static_cast<NewMailRecorder*>(context);
    std::lock_guard lock(self->mutex);
    for (ULONG i = 0; i < count; ++i) {
      if (n[i].ulEventType != fnevNewMail) {
        ++self->other_events;
        continue;
      }
      const NEWMAIL_NOTIFICATION& m = n[i].info.newmail;
      NewMail mail{bytes_of(m.lpEntryID, m.cbEntryID), bytes_of(m.lpParentID, m.cbParentID), m.ulFlags,
                   m.ulMessageFlags, {}};
      if (m.lpszMessageClass != nullptr && (m.ulFlags & MAPI_UNICODE) == 0)
        mail.message_class = reinterpret_cast<const char*>(m.lpszMessageClass);
      self->mails.push_back(std::move(mail));
    }
    self->arrived.notify_all();
    return 0;
  }
};

TEST_F(SharedNotify, MailAnotherProcessDeliversToTheReceiveFolderIsNewMailHere) {
  pstkit::Nid inbox = 0;
  {
    auto w = pstkit::StoreWriter::open(path_);
    ASSERT_TRUE(w) << w.status().message();
    auto f = (*w)->create_folder((*w)->ipm_subtree(), "Inbox");
    ASSERT_TRUE(f);
    inbox = *f;
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  // The delivering process (a StoreWriter, as `pstkit import` writes),
  // forked before this one starts threads; it sends the delivered NID.
  int go[2], sent[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(sent), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(go[1]);
    ::close(sent[0]);
    char start = 0;
    if (::read(go[0], &start, 1) != 1) ::_exit(4);
    auto w = pstkit::StoreWriter::open(path_);
    if (!w) ::_exit(1);
    auto add = [&](pstkit::Nid folder, const char* subject, uint32_t flags) -> pstkit::Nid {
      pstkit::NewMessage m;
      m.properties.push_back({0x0037001F, pstkit::utf8_to_utf16le(subject)});
      m.properties.push_back({0x001A001F, pstkit::utf8_to_utf16le("IPM.Note")});
      m.properties.push_back(
          {0x0E070003, Bytes{uint8_t(flags), uint8_t(flags >> 8), uint8_t(flags >> 16), uint8_t(flags >> 24)}});
      auto nid = (*w)->create_message(folder, m);
      if (!nid) ::_exit(2);
      return *nid;
    };
    const pstkit::Nid delivered = add(inbox, "delivered", 0);
    add(inbox, "already read", MSGFLAG_READ);
    add(inbox, "a draft", MSGFLAG_UNSENT);
    add(folder_, "elsewhere", 0);
    if (!(*w)->commit().is_ok()) ::_exit(3);
    ::_exit(::write(sent[1], &delivered, sizeof delivered) == sizeof delivered ? 0 : 5);
  }
  ::close(go[0]);
  ::close(sent[1]);
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path_, 0, store.out()), S_OK);  // read-only: a listener
  NewMailRecorder recorder;
  Ptr<IMAPIAdviseSink> sink;
  ASSERT_EQ(HrAllocAdviseSink(&NewMailRecorder::callback, &recorder, sink.out()), S_OK);
  ULONG_PTR connection = 0;
  ASSERT_EQ(store->Advise(0, nullptr, fnevNewMail, sink.p, &connection), S_OK);
  const char start = 1;
  ASSERT_EQ(::write(go[1], &start, 1), 1);
  pstkit::Nid delivered = 0;
  ASSERT_EQ(::read(sent[0], &delivered, sizeof delivered), ssize_t(sizeof delivered));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int fd : {go[1], sent[0]}) ::close(fd);
  {
    // Delivered by the change watch, without a call of this process.
    std::unique_lock lock(recorder.mutex);
    ASSERT_TRUE(recorder.arrived.wait_for(lock, seconds(5), [&] { return !recorder.mails.empty(); }));
  }
  std::this_thread::sleep_for(milliseconds(300));  // nothing more comes
  std::lock_guard lock(recorder.mutex);
  ASSERT_EQ(recorder.mails.size(), 1u);
  EXPECT_EQ(recorder.other_events, 0u);
  std::array<uint8_t, 16> uid{};
  ASSERT_EQ(pstkit::mapi::capi::pst_store_record_key(store.p, &uid), S_OK);
  const NewMail& mail = recorder.mails[0];
  EXPECT_EQ(mail.id, pstkit::mapi::encode_entry_id(uid, delivered));
  EXPECT_EQ(mail.parent, pstkit::mapi::encode_entry_id(uid, inbox));
  EXPECT_EQ(mail.flags, 0u);
  EXPECT_EQ(mail.message_class, "IPM.Note");
  EXPECT_EQ(mail.message_flags, 0u);
  EXPECT_EQ(store->Unadvise(connection), S_OK);
}

}  // namespace
