// A compound file ([MS-CFB]) built in memory and written whole: the
// container .msg files are ([MS-OXMSG] 2.1). Written by libgsf
// (GsfOutfileMSOle): version 3 (512-byte sectors), streams under 4096 bytes
// in the mini stream, directory entries sorted as MS-CFB 2.6.4 requires
// (libgsf marks every entry black, which 2.6.4 allows), zero timestamps.
// The file depends only on the tree: writing the same tree twice gives the
// same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::cfb {

struct Storage {
  std::array<uint8_t, 16> clsid{};  // MS-CFB 2.6.1 CLSID; zero unless set
  std::map<std::string, Bytes> streams;     // names are ASCII, at most 31 characters
  std::map<std::string, Storage> storages;
};

// The compound file whose root storage is `root`. Fails when libgsf
// (libgsf-1.so.114) cannot be loaded or writing fails.
Result<Bytes> write_compound_file(const Storage& root);

}  // namespace pstkit::cfb
