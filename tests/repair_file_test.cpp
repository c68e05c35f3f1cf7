// The whole-file side of repair_file and recover_file (src/repair/whole_file.cpp):
// backups, the atomic replacement, dry runs, passes, locks and bad input.
// The engine is replaced by test doubles that write a known store (or fail),
// so that these tests are about the file handling alone; test_repair_cli.py
// runs the real engine.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pstkit/check.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/repair.h"
#include "pstkit/store_writer.h"
#include "repair/whole_file.h"

namespace pstkit::repair {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A new store with one folder named `marker`.
void make_store(const std::string& path, const std::string& marker) {
  auto w = StoreWriter::create(path, NewStoreOptions{});
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  ASSERT_TRUE((*w)->create_folder((*w)->ipm_subtree(), marker).is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
}

// Flips a byte of dwReserved1, which the header's partial CRC covers
// (MS-PST 2.2.2.6): check reports HEADER_CRC_PARTIAL, an error, and
// everything else still reads.
void damage_header(const std::string& path) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(16);
  char c = 0;
  f.read(&c, 1);
  c = char(c ^ 0x5A);
  f.seekp(16);
  f.write(&c, 1);
}

bool has_folder(const std::string& path, const std::string& name) {
  auto w = StoreWriter::open(path);
  return w.is_ok() && (*w)->find_folder({name}).is_ok();
}

class RepairFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit-repair-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.pst").string();
    make_store(path_, "Original");
    damage_header(path_);
    auto c = check::check_file(path_);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    ASSERT_GT(c->errors, 0u) << "the damage must be an error for these tests";
    original_ = read_all(path_);

    engine_.open = [](const std::string& p, bool deleted, std::vector<Change>*) {
      ndb::SalvageOptions so;
      so.include_deleted = deleted;
      return ndb::open_salvaged(p, {}, so);
    };
    // The rebuilt file: a clean store whose folder says it is the rebuilt one.
    engine_.rebuild = [this](const ndb::Database&, const std::string& dest,
                             const RebuildOptions& o) -> Result<RebuildReport> {
      ++rebuilds_;
      dests_.push_back(dest);
      make_store(dest, "Rebuilt");
      if (rebuilds_ <= damaged_rebuilds_) damage_header(dest);
      Change change{"TABLE_REBUILT", "contents table", 0x8022, kNone, "rewritten"};
      if (o.on_change) o.on_change(change);
      RebuildReport r;
      r.changes = 1;
      return r;
    };
  }
  void TearDown() override { fs::remove_all(dir_); }

  bool no_temporary_files() const {
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().string().find(".pstkit-") != std::string::npos) return false;
    }
    return true;
  }

  fs::path dir_;
  std::string path_;
  std::string original_;
  detail::Engine engine_;
  int rebuilds_ = 0;
  int damaged_rebuilds_ = 0;  // the first N rebuilds still have errors
  std::vector<std::string> dests_;
};

TEST_F(RepairFileTest, CleanFileIsLeftByteIdentical) {
  const std::string clean = (dir_ / "clean.pst").string();
  make_store(clean, "Clean");
  const std::string before = read_all(clean);
  std::vector<std::string> seen;
  FileRepairOptions o;
  o.on_finding = [&](const std::string& when, const check::Finding& f) { seen.push_back(when + f.code); };
  auto r = detail::repair_file_with(clean, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->was_clean);
  EXPECT_FALSE(r->changed);
  EXPECT_EQ(r->errors_before, 0u);
  EXPECT_EQ(rebuilds_, 0);
  EXPECT_TRUE(read_all(clean) == before);
  EXPECT_FALSE(fs::exists(clean + ".bak"));
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, DamagedFileIsReplacedAndTheOriginalInodeIsTheBackup) {
  ::chmod(path_.c_str(), 0640);
  const ino_t original_inode = inode_of(path_);
  std::vector<Change> changes;
  std::vector<std::string> before_codes;
  FileRepairOptions o;
  o.on_change = [&](const Change& c) { changes.push_back(c); };
  o.on_finding = [&](const std::string& when, const check::Finding& f) {
    if (when == "before") before_codes.push_back(f.code);
  };
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->was_clean);
  EXPECT_TRUE(r->changed);
  EXPECT_GT(r->errors_before, 0u);
  EXPECT_EQ(r->errors_after, 0u);
  EXPECT_EQ(r->passes, 1);
  EXPECT_EQ(r->backup, path_ + ".bak");
  EXPECT_EQ(std::count(before_codes.begin(), before_codes.end(), "HEADER_CRC_PARTIAL"), 1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].code, "TABLE_REBUILT");
  // Rebuilt beside FILE under the temporary name, then renamed over it.
  ASSERT_EQ(dests_.size(), 1u);
  EXPECT_EQ(dests_[0], detail::temp_path_of(path_));
  EXPECT_TRUE(has_folder(path_, "Rebuilt"));
  EXPECT_TRUE(read_all(path_ + ".bak") == original_);
  EXPECT_EQ(inode_of(path_ + ".bak"), original_inode);
  EXPECT_NE(inode_of(path_), original_inode);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(no_temporary_files());
  auto c = check::check_file(path_);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->errors, 0u);
}

TEST_F(RepairFileTest, AnExistingBackupIsNeverOverwritten) {
  write_all(path_ + ".bak", "older backup");
  write_all(path_ + ".bak.1", "another");
  auto r = detail::repair_file_with(path_, {}, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->backup, path_ + ".bak.2");
  EXPECT_EQ(read_all(path_ + ".bak"), "older backup");
  EXPECT_EQ(read_all(path_ + ".bak.1"), "another");
  EXPECT_TRUE(read_all(path_ + ".bak.2") == original_);
}

TEST_F(RepairFileTest, BackupPathIsUsedAndNotOverwrittenEither) {
  const std::string named = (dir_ / "keep.pst").string();
  FileRepairOptions o;
  o.backup_path = named;
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->backup, named);
  EXPECT_TRUE(read_all(named) == original_);
  // A second repair of another damaged file with the same --backup: .1.
  const std::string second = (dir_ / "u.pst").string();
  make_store(second, "U");
  damage_header(second);
  const std::string second_original = read_all(second);
  auto r2 = detail::repair_file_with(second, o, engine_);
  ASSERT_TRUE(r2.is_ok()) << r2.status().message();
  EXPECT_EQ(r2->backup, named + ".1");
  EXPECT_TRUE(read_all(named) == original_);
  EXPECT_TRUE(read_all(named + ".1") == second_original);
}

TEST_F(RepairFileTest, NoBackupMakesNone) {
  FileRepairOptions o;
  o.no_backup = true;
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->backup, "");
  EXPECT_FALSE(fs::exists(path_ + ".bak"));
  EXPECT_TRUE(has_folder(path_, "Rebuilt"));
}

TEST_F(RepairFileTest, DryRunRebuildsReportsAndChangesNothing) {
  const ino_t inode = inode_of(path_);
  std::vector<Change> changes;
  FileRepairOptions o;
  o.dry_run = true;
  o.on_change = [&](const Change& c) { changes.push_back(c); };
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->changed);
  EXPECT_EQ(r->errors_after, 0u);
  EXPECT_EQ(changes.size(), 1u);  // the plan
  EXPECT_EQ(rebuilds_, 1);
  EXPECT_TRUE(read_all(path_) == original_);
  EXPECT_EQ(inode_of(path_), inode);
  EXPECT_FALSE(fs::exists(path_ + ".bak"));
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, StaleTemporaryFilesOfAKilledRunAreRemovedFirst) {
  const std::string temp = detail::temp_path_of(path_);
  write_all(temp, "left by a killed run");
  write_all(temp + "-journal", "and its journal");
  auto r = detail::repair_file_with(path_, {}, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(no_temporary_files());
}

// A kill between the backup's link and the rename leaves FILE.bak linked to
// FILE itself: the next run takes it as the backup rather than FILE.bak.1.
TEST_F(RepairFileTest, BackupLinkOfAKilledRunIsTakenAsTheBackup) {
  ASSERT_EQ(::link(path_.c_str(), (path_ + ".bak").c_str()), 0);
  auto r = detail::repair_file_with(path_, {}, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->backup, path_ + ".bak");
  EXPECT_FALSE(fs::exists(path_ + ".bak.1"));
  EXPECT_TRUE(read_all(path_ + ".bak") == original_);
}

TEST_F(RepairFileTest, FurtherPassesRebuildThePreviousResult) {
  damaged_rebuilds_ = 1;
  std::vector<std::string> after_codes;
  FileRepairOptions o;
  o.on_finding = [&](const std::string& when, const check::Finding& f) {
    if (when == "after") after_codes.push_back(f.code);
  };
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->passes, 2);
  EXPECT_EQ(r->errors_after, 0u);
  EXPECT_TRUE(r->changed);
  ASSERT_EQ(dests_.size(), 2u);
  EXPECT_NE(dests_[0], dests_[1]);
  EXPECT_TRUE(after_codes.empty());
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, WhatCannotBeRepairedIsListedAndFileLeftAsItWas) {
  damaged_rebuilds_ = 100;
  FileRepairOptions o;
  o.max_passes = 3;
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  // The second pass made nothing better: no third.
  EXPECT_EQ(r->passes, 2);
  EXPECT_GT(r->errors_after, 0u);
  ASSERT_FALSE(r->unrepaired.empty());
  EXPECT_NE(r->unrepaired[0].find("HEADER_CRC_PARTIAL"), std::string::npos) << r->unrepaired[0];
  EXPECT_FALSE(r->changed);
  EXPECT_TRUE(read_all(path_) == original_);
  EXPECT_FALSE(fs::exists(path_ + ".bak"));
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, FailedRebuildLeavesFileAsItWasAndNoTemporaryFile) {
  // As a full disk would: part of the temporary file written, then an error.
  engine_.rebuild = [](const ndb::Database&, const std::string& dest, const RebuildOptions&) -> Result<RebuildReport> {
    write_all(dest, std::string(10000, 'x'));
    return Status::io_error(dest + ": write: No space left on device");
  };
  auto r = detail::repair_file_with(path_, {}, engine_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("No space left"), std::string::npos);
  EXPECT_TRUE(read_all(path_) == original_);
  EXPECT_FALSE(fs::exists(path_ + ".bak"));
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, FileWrittenByAnotherProcessDuringTheRunIsNotReplaced) {
  auto rebuild = engine_.rebuild;
  engine_.rebuild = [&](const ndb::Database& db, const std::string& dest,
                        const RebuildOptions& o) -> Result<RebuildReport> {
    // A program that ignores pstkit's lock writes FILE meanwhile.
    std::ofstream(path_, std::ios::binary | std::ios::app) << "appended";
    return rebuild(db, dest, o);
  };
  auto r = detail::repair_file_with(path_, {}, engine_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("written by another process"), std::string::npos) << r.status().message();
  EXPECT_TRUE(read_all(path_) == original_ + "appended");
  EXPECT_FALSE(fs::exists(path_ + ".bak"));
  EXPECT_TRUE(no_temporary_files());
}

TEST_F(RepairFileTest, LockedFileIsWaitedForBoundedThenRefused) {
  // The damaged header refuses writers; hold the lock the way they take it.
  auto file = Env::posix()->open(path_, OpenMode::kExisting);
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE((*file)->lock(FileLock::kWriter, LockMode::kExclusive, LockWait{}).is_ok());
  FileRepairOptions o;
  o.lock_timeout = milliseconds(200);
  auto r = detail::repair_file_with(path_, o, engine_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_EQ(rebuilds_, 0);
  EXPECT_TRUE(read_all(path_) == original_);
}

TEST_F(RepairFileTest, BadInputIsRefusedWithoutWriting) {
  auto missing = detail::repair_file_with((dir_ / "missing.pst").string(), {}, engine_);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos) << missing.status().message();
  auto directory = detail::repair_file_with(dir_.string(), {}, engine_);
  ASSERT_FALSE(directory.is_ok());
  EXPECT_NE(directory.status().message().find("directory"), std::string::npos) << directory.status().message();
  EXPECT_EQ(rebuilds_, 0);
}

TEST_F(RepairFileTest, ASymbolicLinkIsFollowedAndStays) {
  const std::string link = (dir_ / "link.pst").string();
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  auto r = detail::repair_file_with(link, {}, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(r->backup, path_ + ".bak");
  EXPECT_TRUE(has_folder(link, "Rebuilt"));
  EXPECT_TRUE(read_all(path_ + ".bak") == original_);
}

// The real engine, through rebuild(): a new file that checks clean, the
// NDB rebuild reported; a destination that exists is refused untouched.
TEST_F(RepairFileTest, RebuildWritesANewCleanFileAndRefusesAnExistingOne) {
  auto source = ndb::open_salvaged(path_);
  ASSERT_TRUE(source.is_ok()) << source.status().message();
  std::vector<Change> changes;
  RebuildOptions o;
  o.on_change = [&](const Change& c) { changes.push_back(c); };
  const std::string dest = (dir_ / "rebuilt.pst").string();
  auto r = rebuild(**source, dest, o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_GT(r->nodes_copied, 0u);
  EXPECT_EQ(r->changes, changes.size());
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().code, "STORE_REBUILT");
  auto c = check::check_file(dest);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->errors, 0u);
  EXPECT_TRUE(has_folder(dest, "Original"));
  write_all(dest, "not to be replaced");
  auto again = rebuild(**source, dest, o);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(read_all(dest), "not to be replaced");
}

TEST_F(RepairFileTest, RecoverWritesANewFileAndOnlyReadsTheInput) {
  const std::string out = (dir_ / "out.pst").string();
  std::vector<std::string> opened;
  auto open = engine_.open;
  engine_.open = [&](const std::string& p, bool d, std::vector<Change>* n) {
    opened.push_back(p);
    return open(p, d, n);
  };
  RebuildOptions seen;
  auto rebuild = engine_.rebuild;
  engine_.rebuild = [&](const ndb::Database& db, const std::string& dest,
                        const RebuildOptions& o) -> Result<RebuildReport> {
    seen = o;
    return rebuild(db, dest, o);
  };
  const ino_t inode = inode_of(path_);
  auto r = detail::recover_file_with(path_, out, {}, engine_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->errors_after, 0u);
  EXPECT_EQ(opened, std::vector<std::string>{path_});
  EXPECT_EQ(seen.format, ndb::FileFormat::kUnicode);
  EXPECT_EQ(seen.crypt, ndb::CryptMethod::kPermute);
  EXPECT_TRUE(has_folder(out, "Rebuilt"));
  EXPECT_TRUE(read_all(path_) == original_);
  EXPECT_EQ(inode_of(path_), inode);
  EXPECT_TRUE(no_temporary_files());
  // OUT exists now: a second recover refuses to replace it.
  const std::string recovered = read_all(out);
  auto again = detail::recover_file_with(path_, out, {}, engine_);
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("exists"), std::string::npos);
  EXPECT_TRUE(read_all(out) == recovered);
}

TEST_F(RepairFileTest, FailedRecoverLeavesNoOutput) {
  const std::string out = (dir_ / "out.pst").string();
  engine_.rebuild = [](const ndb::Database&, const std::string& dest, const RebuildOptions&) -> Result<RebuildReport> {
    write_all(dest, "partial");
    return Status::io_error(dest + ": write: No space left on device");
  };
  auto r = detail::recover_file_with(path_, out, {}, engine_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(no_temporary_files());
  auto missing = detail::recover_file_with((dir_ / "missing").string(), out, {}, engine_);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace pstkit::repair
