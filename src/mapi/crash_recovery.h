// MAPICrashRecovery (mapicrashrecovery.md, issue 10 part 3) and the
// "did not close properly" check (part 2): what each open PST store keeps
// for them, the recovery thread, and the report of the check. Internal to
// src/mapi; docs/MAPI.md "Crash recovery" describes the behaviour.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "mapi/open_record.h"
#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

struct StoreState;

// Per store, made at open before the store is registered (so a signal
// handler's recovery never allocates for it).
struct StoreRecovery {
  ~StoreRecovery();
  int crash_fd = -1;                    // the PST, opened for the crash lock
  bool crash_fd_writable = false;       // exclusive lock possible
  std::unique_ptr<OpenRecord> record;   // writable opens only
  std::atomic<bool> locked{false};      // this process's crash lock is held
  // The process that opened the descriptors: a fork's child shares their
  // open file descriptions, and so their OFD locks, with its parent.
  pid_t opener = 0;
};

// Prepares recovery for a store opened by open_pst_store: the crash-lock
// descriptor, the open-by-MAPI record (writable opens) and the recovery
// thread (started once). Reports the improper close it finds and starts its
// background check. Errors: the store is crash-locked by another process
// (MAPI_E_BUSY), the record cannot be written (MAPI_E_DISK_ERROR /
// MAPI_E_NO_ACCESS); *detail says why.
HRESULT prepare_store_recovery(const std::shared_ptr<StoreState>& state, std::string* detail);

// MAPI_E_BUSY (with *detail naming the holder) when MAPICrashRecovery of
// this or another process has locked the store; S_OK otherwise. Called
// before every commit and OpenEntry.
HRESULT refuse_if_crash_locked(const StoreState& state, std::string* detail);

// Commits what every open store holds and marks its open-by-MAPI record
// closed (unless another process uses the store, or an update is in
// progress): the last MAPIUninitialize and DoFastShutdown end MAPI cleanly.
void close_open_records();

// Test-only fault point (PSTKIT_FAULT_SIGSEGV_IN_COMMIT=N): raises SIGSEGV
// in the N-th commit of the process, with the store's mutex held and the
// update staged but not committed.
void crash_fault_point();

// The reports of "did not close properly" for GetStatusTable: one row per
// store file this process found closed improperly.
struct DataFileReport {
  std::string path;
  uint32_t status_code = 0;  // STATUS_AVAILABLE while checking or clean, STATUS_FAILURE on errors
  std::string text;
};
std::vector<DataFileReport> data_file_reports();

}  // namespace pstkit::mapi::capi
