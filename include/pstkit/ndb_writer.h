// The NDB layer's write side: a read-write node database with atomic,
// durable commits.
//
// Changes are copy-on-write (MS-PST 2.6): new blocks and B-tree pages go to
// space that is free in the last committed state, so until commit() the file
// still holds that state intact. commit() makes the new state durable and
// switches to it through a rollback journal (FILE-journal, see
// docs/COMMIT_PROTOCOL.md): a crash at any instant leaves the old state or
// the new one, and the next open restores whichever it was.
//
// The writer is also a Database: reads see uncommitted changes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/env.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {

struct CreateOptions {
  FileFormat format = FileFormat::kUnicode;
  CryptMethod crypt = CryptMethod::kPermute;  // Outlook's default ("compressible")
};

struct WriterOptions {
  Env* env = nullptr;  // nullptr: Env::posix()
  Options read;        // cache sizes for reads
  // How long to wait for another writer, or for readers around a commit
  // (docs/COMMIT_PROTOCOL.md); negative: $PSTKIT_LOCK_TIMEOUT seconds, else 60 s.
  std::chrono::milliseconds lock_timeout{-1};
  // Hears, once per wait, that a wait began and for whom (nullptr: silence).
  std::function<void(const std::string&)> notice;
  // How long space a commit freed stays unused and unwiped, so that readers
  // that take no lock (libpff, readpst) and read an older state still find
  // its blocks (docs/COMMIT_PROTOCOL.md). Honoured by every writer of the
  // file, in any process.
  std::chrono::milliseconds freed_space_quiet_time{10000};
};

// What recovery did when the file was opened.
struct RecoveryReport {
  bool rolled_back_journal = false;  // a commit was interrupted before its header landed; the old state was restored
  bool rolled_forward_journal = false;  // a commit was interrupted after its header landed; it was completed
  bool truncated_tail = false;       // bytes past ibFileEof from an interrupted commit were cut
  bool rebuilt_amap = false;         // fAMapValid was INVALID: the AMaps were rebuilt
};

class WritableDatabase : public Database {
 public:
  // Creates a new file with an empty NBT and BBT (the caller adds the nodes
  // a store needs; see messaging). Fails if path exists.
  static Result<std::unique_ptr<WritableDatabase>> create(const std::string& path, const CreateOptions& options,
                                                          const WriterOptions& writer = {});
  // Opens an existing ANSI or Unicode file for writing: takes the writer
  // lock (waiting for another writer up to the timeout), then completes or
  // undoes an interrupted commit. Fails, without writing, when FILE-journal
  // is not a pstkit journal. The lock is held until the database is
  // destroyed (or released by yield_to_other_writers).
  static Result<std::unique_ptr<WritableDatabase>> open(const std::string& path, const WriterOptions& writer = {});

  virtual const RecoveryReport& recovery() const = 0;
  virtual const std::string& path() const = 0;

  // ---- building blocks of a transaction

  // A new top-level NID of this type (MS-PST 2.2.2.6 rgnid).
  virtual Nid allocate_nid(uint8_t nid_type) = 0;
  // Raises rgnid[type of nid] to cover nid (NIDs made from another's index,
  // such as a folder's tables).
  virtual void reserve_nid(Nid nid) = 0;
  // Writes one block (data is the decoded content; external blocks are
  // encoded per bCryptMethod). Its reference count is set for one reference.
  virtual Result<Bid> write_block(ByteView data, bool internal) = 0;
  // Writes an external data block as another file of the same format and
  // block encoding stores it, with the CRC its trailer holds (MS-PST
  // 2.2.2.8.1: dwCRC covers the stored bytes): a copy without decoding,
  // encoding or computing a CRC. Only for bCryptMethod none or permute,
  // whose stored bytes do not depend on the BID (cyclic's do: an error).
  virtual Result<Bid> write_stored_block(ByteView stored, uint32_t crc) = 0;
  // Writes a data stream given as its data blocks (each at most
  // max_data_block() bytes, all but the last full) and, when there is more
  // than one, the XBLOCK/XXBLOCK tree above them. Returns the top BID (0 for
  // an empty stream).
  virtual Result<Bid> write_data_tree(const std::vector<Bytes>& blocks) = 0;
  // The XBLOCK/XXBLOCK tree over data blocks already written by write_block
  // (their references move into the tree), so that a long stream can be
  // written a block at a time. Sizes are not checked: a plain stream's
  // blocks are all full but the last, a heap's are its pages. Returns the
  // one block itself when there is one, 0 when there are none.
  virtual Result<Bid> write_data_tree_over(const std::vector<Bid>& blocks) = 0;
  // Rewrites the data stream whose tree is old_data_bid in place of a few of
  // its blocks: the new stream has block_count blocks, those in changed (by
  // index) with new contents, every other one the old block at that index,
  // shared rather than copied. Returns the new tree's top BID, which holds
  // its own references: the caller releases old_data_bid as usual (put_node
  // does). Lets a long stream (a large table's heap) change by the cost of
  // its changed blocks and its XBLOCKs, not its size.
  virtual Result<Bid> rewrite_data_tree(Bid old_data_bid, size_t block_count,
                                        const std::map<size_t, Bytes>& changed) = 0;
  // Writes a data tree holding the stream of data_bid (0: empty) followed
  // by `more` (not empty), for nodes that grow at the end (MS-PST 2.4.8.3
  // queues). The old tree's full data blocks are shared with the new one
  // (each gains a reference); only its last block, when not full, is read
  // and rewritten. The old tree is left as it is: replacing the node's
  // entry (put_node) drops it. Returns the new top BID.
  virtual Result<Bid> append_data_tree(Bid data_bid, ByteView more) = 0;
  // Writes the SLBLOCK/SIBLOCK tree for these entries (sorted by NID; their
  // BIDs' references move into the tree). Returns 0 for no entries.
  virtual Result<Bid> write_subnode_tree(std::vector<SubnodeEntry> entries) = 0;
  // Adds a reference to a block (a node copied or shared).
  virtual Status add_ref(Bid bid) = 0;
  // Drops a reference; a block left with none is freed together with the
  // blocks it references (MS-PST 2.6.1.1.7).
  virtual Status release(Bid bid) = 0;

  // Inserts or replaces an NBT entry. Replacing drops the references the old
  // entry held (its data and subnode BIDs) unless the new one keeps them.
  virtual Status put_node(const NodeEntry& entry) = 0;
  // Removes an NBT entry and drops its references.
  virtual Status delete_node(Nid nid) = 0;

  // Largest decoded data block (8176 Unicode, 8180 ANSI).
  virtual uint32_t max_data_block() const = 0;

  // ---- transactions

  // True when anything changed since the last commit.
  virtual bool has_changes() const = 0;
  // Makes every change durable and visible atomically.
  virtual Status commit() = 0;
  // Drops every change since the last commit.
  virtual Status rollback() = 0;
  // Between transactions: releases the writer lock so that writers waiting
  // for it can commit, takes it again, and reloads the file if another
  // writer changed it meanwhile. Returns whether it did (what the caller
  // read before is then stale). Fails if there are uncommitted changes.
  virtual Result<bool> yield_to_other_writers() = 0;

  // ---- writers that share the file (MAPI stores, docs/COMMIT_PROTOCOL.md)
  //
  // The two halves of yield_to_other_writers, for a writer that holds the
  // lock only while it has staged changes. release_writer_lock fails if
  // there are uncommitted changes; until reacquire_writer_lock, commit()
  // fails and nothing is written. reacquire_writer_lock (writers already
  // waiting go first, the wait bounded by lock_timeout) reloads the file if
  // another writer changed it and returns whether it did.
  virtual Status release_writer_lock() = 0;
  virtual Result<bool> reacquire_writer_lock() = 0;
  virtual bool holds_writer_lock() const = 0;
  // Without the writer lock: whether the file's header differs from the one
  // this state was loaded from (another writer committed since, or is
  // committing). One read of the header; false while the lock is held.
  virtual Result<bool> changed_by_other_writer() const = 0;
};


// What a reader finds next to a file (FILE-journal), read without writing
// anything: a commit interrupted after its header landed (readers see it
// committed; the next writer completes it), one interrupted before (readers
// see the state before it; the next writer undoes it), or a FILE-journal
// that is not pstkit's (read past, never deleted; writers refuse the file).
struct PendingJournal {
  enum class Kind { kNone, kRollForward, kRollBack, kForeign } kind = Kind::kNone;
  std::string detail;  // kForeign: why it is not a pstkit journal
  // A live writer holds the file's writer lock: the journal belongs to a
  // commit in progress, not an interrupted one (readers still read the
  // committed state, as kind says).
  bool writer_active = false;
};
PendingJournal inspect_journal(const std::string& path);

}  // namespace pstkit::ndb
