// The receive folder settings of a PST (IMsgStore::SetReceiveFolder /
// GetReceiveFolder, imsgstore-setreceivefolder.md), kept where Outlook keeps
// them: the receive folder table, NID_RECEIVE_FOLDER_TABLE (0x62B, MS-PST
// 2.4.1), a TC with one row per message class: PidTagMessageClass and the
// receiving folder's NID in property 0x6605 (PtypInteger32), the layout
// write_empty_store gives it (class "" → the root folder). Internal to
// src/mapi.
#pragma once

#include <string>
#include <vector>

#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"

namespace pstkit::mapi::capi {

struct ReceiveFolder {
  std::string message_class;  // UTF-8, as stored ("" for every class)
  Nid folder = 0;
};

// The table's rows in row order; none when the store has no such table. A
// row lacking either cell is skipped; a damaged table is a kCorrupt error.
Result<std::vector<ReceiveFolder>> read_receive_folders(const Store& store);

// Sets (folder != 0) or removes (folder 0) the row of `message_class`
// (ASCII case ignored, as GetReceiveFolder compares) and writes the table
// again, keeping its other rows and columns; the caller commits.
Status write_receive_folder(StoreWriter& writer, const std::string& message_class, Nid folder);

}  // namespace pstkit::mapi::capi
