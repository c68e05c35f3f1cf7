// The receive folder settings of a PST (IMsgStore::SetReceiveFolder /
// GetReceiveFolder, imsgstore-setreceivefolder.md), kept where Outlook keeps
// them: the receive folder table, NID_RECEIVE_FOLDER_TABLE (0x62B, MS-PST
// 2.4.1), a TC with one row per message class: PidTagMessageClass and the
// receiving folder's NID in property 0x6605 (PtypInteger32), the layout
// write_empty_store gives it (class "" → the root folder). Internal to
// src/mapi.
#pragma once

#include <map>
#include <optional>
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

// The default receive folder: the IPM subtree's "Inbox" (ASCII case
// ignored), else the IPM subtree; nullopt without one. The Inbox alone is
// ipm_inbox.
std::optional<Nid> ipm_inbox(const Store& store);
std::optional<Nid> default_receive_folder(const Store& store);

// The settings by lower-case class. The row for "" naming the root folder,
// which a new store holds (write_empty_store, as Outlook writes a PST that
// is not a delivery location), is no setting: the default receive folder
// is then the Inbox, where clients such as MFCMAPI's GetInbox expect it.
Result<std::map<std::string, ReceiveFolder>> receive_folder_settings(const Store& store);

// The receive folder of a message class, as IMsgStore::GetReceiveFolder
// answers (imsgstore-getreceivefolder.md): the folder set for the longest
// prefix of the class at dot boundaries (ASCII case ignored), with the class
// as it was set, else the default receive folder with an empty class.
// kNotFound when the store has no IPM subtree.
Result<ReceiveFolder> find_receive_folder(const Store& store, const std::string& message_class);

// Sets (folder != 0) or removes (folder 0) the row of `message_class`
// (ASCII case ignored, as GetReceiveFolder compares) and writes the table
// again, keeping its other rows and columns; the caller commits.
Status write_receive_folder(StoreWriter& writer, const std::string& message_class, Nid folder);

}  // namespace pstkit::mapi::capi
