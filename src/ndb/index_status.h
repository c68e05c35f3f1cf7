// What a database whose index spills to a temporary file (the salvaged one,
// src/ndb/salvage.cpp) says about that file: lookups after a failed write
// (a full disk) find nothing, so whatever was read since is incomplete and
// the caller must fail instead of writing a result.
#pragma once

#include "pstkit/ndb.h"
#include "pstkit/status.h"

namespace pstkit::ndb {

class SpilledIndex {
 public:
  virtual ~SpilledIndex() = default;
  virtual Status index_status() const = 0;
};

// The first error of db's temporary file, or ok (also for every database
// that keeps no such file).
inline Status index_status(const Database& db) {
  const auto* s = dynamic_cast<const SpilledIndex*>(&db);
  return s != nullptr ? s->index_status() : Status::ok();
}

}  // namespace pstkit::ndb
