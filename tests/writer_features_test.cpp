// Everything StoreWriter can write, in Unicode and ANSI stores, read back
// through a fresh pstkit::Store after commit: folders (nested, renamed,
// moved, deleted), messages with every property type (multi-valued too),
// recipients, attachments across every size boundary of heaps, subnodes and
// data trees, embedded messages three deep, and edits (modify, copy, move,
// delete, attachments added and deleted). Folder counts must agree with the
// tables and check must find the file clean.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "pstkit/check.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"
#include "test_bytes.h"

namespace pstkit {
namespace {

using ltp::make_tag;

// ---------------------------------------------------------------- values

PropValue prop(uint16_t id, uint16_t type, Bytes data) { return PropValue{make_tag(id, type), std::move(data)}; }

template <typename T>
Bytes le(T v, size_t n = sizeof(T)) {
  Bytes b(n);
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(u >> (8 * i));
  return b;
}

PropValue text(uint16_t id, const std::string& s) { return prop(id, ltp::kPtypString, utf8_to_utf16le(s)); }
PropValue i32(uint16_t id, int32_t v) { return prop(id, ltp::kPtypInteger32, le(v)); }

// MS-PST 2.3.3.4.2: ulCount, rgulDataOffsets, then the elements.
Bytes mv_variable(const std::vector<Bytes>& items) {
  Bytes out = le(uint32_t(items.size()));
  uint32_t offset = uint32_t(4 + 4 * items.size());
  for (const auto& it : items) {
    Bytes o = le(offset);
    out.insert(out.end(), o.begin(), o.end());
    offset += uint32_t(it.size());
  }
  for (const auto& it : items) out.insert(out.end(), it.begin(), it.end());
  return out;
}

Bytes concat(const std::vector<Bytes>& items) {
  Bytes out;
  for (const auto& it : items) out.insert(out.end(), it.begin(), it.end());
  return out;
}

using test::pattern;

Guid guid(uint8_t seed) {
  Guid g;
  for (int i = 0; i < 16; ++i) g.bytes[i] = uint8_t(seed + i * 17);
  return g;
}
Bytes guid_bytes(uint8_t seed) {
  Guid g = guid(seed);
  return Bytes(g.bytes, g.bytes + 16);
}

// Text the ANSI code page (Windows-1252) can hold, so both formats keep it.
constexpr const char* kLatin = "Grüße, café — naïve";

// One property of every type pstkit stores (ids in the 0x68xx-0x7Bxx range
// MS-OXPROPS leaves to message classes).
std::vector<PropValue> every_type() {
  using namespace ltp;
  const Bytes s8 = Bytes{'a', 'b', 'c'};
  return {
      prop(0x6900, kPtypInteger16, le(int16_t(-1234))),
      prop(0x6901, kPtypInteger32, le(int32_t(-123456789))),
      prop(0x6902, kPtypFloating32, le(1.5f)),
      prop(0x6903, kPtypFloating64, le(-2.25)),
      prop(0x6904, kPtypCurrency, le(int64_t(123456789012))),
      prop(0x6905, kPtypFloatingTime, le(45000.75)),
      prop(0x6906, kPtypErrorCode, le(uint32_t(0x8004010F))),
      prop(0x6907, kPtypBoolean, Bytes{1}),
      prop(0x6908, kPtypInteger64, le(int64_t(-9000000000000000000))),
      text(0x6909, kLatin),
      prop(0x690A, kPtypString8, Bytes(s8)),
      prop(0x690B, kPtypTime, le(uint64_t(133537572000000000ull))),
      prop(0x690C, kPtypGuid, guid_bytes(3)),
      prop(0x690D, kPtypBinary, pattern(100, 1)),
      prop(0x690E, kPtypBinary, pattern(5000, 2)),  // larger than a heap allocation: a subnode
      prop(0x690F, kPtypBinary, Bytes{}),           // empty
      prop(0x6910, kPtypMultipleFlag | kPtypInteger16, concat({le(int16_t(1)), le(int16_t(-2))})),
      prop(0x6911, kPtypMultipleFlag | kPtypInteger32, concat({le(int32_t(7)), le(int32_t(8)), le(int32_t(9))})),
      prop(0x6912, kPtypMultipleFlag | kPtypFloating32, concat({le(0.5f), le(-0.25f)})),
      prop(0x6913, kPtypMultipleFlag | kPtypFloating64, concat({le(3.0), le(4.5)})),
      prop(0x6914, kPtypMultipleFlag | kPtypCurrency, concat({le(int64_t(1)), le(int64_t(20000))})),
      prop(0x6915, kPtypMultipleFlag | kPtypFloatingTime, concat({le(1.25)})),
      prop(0x6916, kPtypMultipleFlag | kPtypInteger64, concat({le(int64_t(-1)), le(int64_t(1) << 40)})),
      prop(0x6917, kPtypMultipleFlag | kPtypString,
           mv_variable({utf8_to_utf16le("one"), utf8_to_utf16le(kLatin), utf8_to_utf16le("")})),
      prop(0x6918, kPtypMultipleFlag | kPtypString8, mv_variable({Bytes{'x'}, Bytes{'y', 'z'}})),
      prop(0x6919, kPtypMultipleFlag | kPtypTime, concat({le(uint64_t(1)), le(uint64_t(133537572000000000ull))})),
      prop(0x691A, kPtypMultipleFlag | kPtypGuid, concat({guid_bytes(1), guid_bytes(2)})),
      prop(0x691B, kPtypMultipleFlag | kPtypBinary, mv_variable({pattern(10, 3), Bytes{}, pattern(4000, 4)})),
  };
}

NewAttachment data_attachment(const std::string& name, Bytes data) {
  NewAttachment a;
  a.properties = {text(prop::kAttachLongFilename, name), text(prop::kAttachMimeTag, "application/octet-stream"),
                  prop(0x6920, ltp::kPtypInteger32, le(int32_t(data.size())))};
  a.data = std::move(data);
  return a;
}

NewMessage note(const std::string& subject, bool unread) {
  NewMessage m;
  m.properties = {text(prop::kMessageClass, "IPM.Note"), text(prop::kSubject, subject),
                  text(prop::kBody, "Body of " + subject + "\r\n"), i32(prop::kMessageFlags, unread ? 0 : 1)};
  return m;
}

std::vector<std::vector<PropValue>> recipients() {
  std::vector<std::vector<PropValue>> out;
  const char* names[] = {"Ann Archer", "Bob Brown", "Chloé Dubois"};
  for (int i = 0; i < 3; ++i) {
    out.push_back({i32(prop::kRecipientType, i + 1), text(prop::kDisplayName, names[i]),
                   text(prop::kEmailAddress, "r" + std::to_string(i) + "@example.com"),
                   text(prop::kAddressType, "SMTP"), i32(0x0FFE, 6)});
  }
  return out;
}

// A message with an embedded message, itself with one, itself with one
// that carries a data attachment.
NewMessage nested(int depth) {
  NewMessage m = note("Level " + std::to_string(depth), false);
  m.recipients = {recipients()[0]};
  if (depth < 3) {
    NewAttachment a;
    a.properties = {text(prop::kDisplayName, "Level " + std::to_string(depth + 1))};
    a.embedded = std::make_shared<NewMessage>(nested(depth + 1));
    m.attachments.push_back(std::move(a));
  } else {
    m.attachments.push_back(data_attachment("deepest.bin", pattern(20000, 9)));
  }
  return m;
}

// ---------------------------------------------------------------- checks

// The property as written and as read agree: byte for byte, or as text when
// the writer stored the file's native string type.
void expect_prop(const PropertyBag& bag, const PropValue& want, const std::string& where) {
  const PropValue* got = bag.find(want.id());
  ASSERT_NE(got, nullptr) << where << ": property " << hex(want.tag) << " missing";
  const bool text_type = want.type() == ltp::kPtypString || want.type() == ltp::kPtypString8;
  if (text_type) {
    PropertyBag one({want}, 1252);
    EXPECT_EQ(bag.decode_string(*got), one.decode_string(want)) << where << ": " << hex(want.tag);
  } else {
    EXPECT_EQ(got->tag, want.tag) << where;
    EXPECT_EQ(got->data, want.data) << where << ": " << hex(want.tag);
  }
}

void expect_message(const Message& got, const NewMessage& want, const std::string& where);

void expect_attachments(const Message& got, const std::vector<NewAttachment>& want, const std::string& where) {
  auto nids = got.attachment_nids();
  ASSERT_TRUE(nids.is_ok()) << where << ": " << nids.status().message();
  ASSERT_EQ(nids->size(), want.size()) << where;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string w = where + " attachment " + std::to_string(i);
    auto a = got.open_attachment((*nids)[i]);
    ASSERT_TRUE(a.is_ok()) << w << ": " << a.status().message();
    for (const auto& p : want[i].properties) expect_prop(a->properties(), p, w);
    if (want[i].embedded) {
      ASSERT_TRUE(a->is_embedded_message()) << w;
      auto inner = a->embedded_message();
      ASSERT_TRUE(inner.is_ok()) << w << ": " << inner.status().message();
      expect_message(*inner, *want[i].embedded, w + " > embedded");
    } else {
      EXPECT_EQ(a->method(), kAttachByValue) << w;
      EXPECT_EQ(a->data_size(), want[i].data.size()) << w;
      auto data = a->read_data(uint64_t{64} << 20);
      ASSERT_TRUE(data.is_ok()) << w << ": " << data.status().message();
      EXPECT_TRUE(*data == want[i].data) << w << ": data differs (" << data->size() << " bytes read)";
    }
  }
}

void expect_message(const Message& got, const NewMessage& want, const std::string& where) {
  for (const auto& p : want.properties) {
    if (p.id() == prop::kMessageFlags) continue;  // the writer adds mfHasAttach
    expect_prop(got.properties(), p, where);
  }
  const int32_t flags = got.properties().get_i32(prop::kMessageFlags).value_or(-1);
  for (const auto& p : want.properties) {
    if (p.id() == prop::kMessageFlags) {
      EXPECT_EQ(flags & 1, *p.as_i32() & 1) << where << ": read flag";
    }
  }
  EXPECT_EQ((flags & 0x10) != 0, !want.attachments.empty()) << where << ": mfHasAttach";
  EXPECT_TRUE(got.properties().get_i32(prop::kMessageSize).has_value()) << where;
  auto rows = got.recipients();
  ASSERT_TRUE(rows.is_ok()) << where << ": " << rows.status().message();
  ASSERT_EQ(rows->size(), want.recipients.size()) << where;
  for (size_t i = 0; i < want.recipients.size(); ++i) {
    for (const auto& p : want.recipients[i]) expect_prop((*rows)[i], p, where + " recipient " + std::to_string(i));
  }
  expect_attachments(got, want.attachments, where);
}

// Every folder's PC agrees with its tables and with its row in its parent's
// hierarchy table.
void expect_consistent_folders(const Store& store, Nid folder_nid, const std::string& path) {
  auto folder = store.open_folder(folder_nid);
  ASSERT_TRUE(folder.is_ok()) << path;
  auto contents = folder->contents();
  auto subs = folder->subfolders();
  ASSERT_TRUE(contents.is_ok() && subs.is_ok()) << path;
  int32_t unread = 0;
  for (const auto& row : *contents) {
    auto m = store.open_message(row.nid);
    ASSERT_TRUE(m.is_ok()) << path << ": message " << row.nid;
    if ((m->properties().get_i32(prop::kMessageFlags).value_or(0) & 1) == 0) ++unread;
    EXPECT_EQ(row.props.get_string(prop::kSubject), m->properties().get_string(prop::kSubject)) << path;
  }
  EXPECT_EQ(folder->content_count(), int32_t(contents->size())) << path;
  EXPECT_EQ(folder->unread_count(), unread) << path;
  EXPECT_EQ(folder->has_subfolders(), !subs->empty()) << path;
  for (const auto& row : *subs) {
    auto child = store.open_folder(row.nid);
    ASSERT_TRUE(child.is_ok()) << path;
    const std::string child_path = path + "/" + child->name();
    EXPECT_EQ(row.props.get_string(prop::kDisplayName).value_or("?"), child->name()) << child_path;
    EXPECT_EQ(row.props.get_i32(prop::kContentCount).value_or(-1), child->content_count()) << child_path;
    EXPECT_EQ(row.props.get_i32(prop::kContentUnread).value_or(-1), child->unread_count()) << child_path;
    EXPECT_EQ(row.props.get_bool(prop::kSubfolders).value_or(false), child->has_subfolders()) << child_path;
    expect_consistent_folders(store, row.nid, child_path);
  }
}

void expect_clean(const std::string& path) {
  auto report = check::check_file(path);
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  std::string findings;
  for (const auto& f : report->findings) {
    if (f.severity == check::Severity::kError) findings += f.code + ": " + f.message + "\n";
  }
  EXPECT_TRUE(report->clean()) << findings;
}

// ---------------------------------------------------------------- fixture

class WriterFeatures : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pstkit-features-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "features.pst").string();
    NewStoreOptions o;
    o.format = GetParam();
    auto w = StoreWriter::create(path_, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    writer_ = std::move(*w);
  }
  void TearDown() override {
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool ansi() const { return GetParam() == ndb::FileFormat::kAnsi; }

  Nid folder(Nid parent, const std::string& name) {
    auto f = writer_->create_folder(parent, name);
    EXPECT_TRUE(f.is_ok()) << name << ": " << f.status().message();
    return f.is_ok() ? *f : 0;
  }
  Nid message(Nid in, const NewMessage& m) {
    auto n = writer_->create_message(in, m);
    EXPECT_TRUE(n.is_ok()) << n.status().message();
    return n.is_ok() ? *n : 0;
  }
  void commit() {
    Status s = writer_->commit();
    ASSERT_TRUE(s.is_ok()) << s.message();
  }
  std::unique_ptr<Store> reopen() {
    auto s = Store::open(path_);
    EXPECT_TRUE(s.is_ok()) << s.status().message();
    return s.is_ok() ? std::move(*s) : nullptr;
  }
  // Path of display names from the IPM subtree to a folder, via a fresh Store.
  static Result<Nid> find(const Store& store, Nid from, const std::vector<std::string>& path) {
    Nid cur = from;
    for (const auto& name : path) {
      PSTKIT_ASSIGN_OR_RETURN(Folder f, store.open_folder(cur));
      PSTKIT_ASSIGN_OR_RETURN(auto rows, f.subfolders());
      Nid next = 0;
      for (const auto& r : rows) {
        if (r.props.get_string(prop::kDisplayName).value_or("") == name) next = r.nid;
      }
      if (!next) return Status::not_found(name);
      cur = next;
    }
    return cur;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<StoreWriter> writer_;
  static inline int counter_ = 0;
};

// ---------------------------------------------------------------- tests

TEST_P(WriterFeatures, FoldersNestedRenamedMovedDeleted) {
  const Nid top = writer_->ipm_subtree();
  const Nid a = folder(top, "A"), b = folder(a, "B"), c = folder(b, "C");
  const Nid d = folder(top, "D"), e = folder(top, "E");
  folder(e, "E1");
  message(e, note("in E", true));
  ASSERT_TRUE(writer_->rename_folder(d, ansi() ? "D renamed café" : "D renamed 日本 🎉").is_ok());
  ASSERT_TRUE(writer_->move_folder(c, d).is_ok());
  ASSERT_TRUE(writer_->delete_folder(e).is_ok());
  message(c, note("in C", true));
  commit();
  // A second transaction on the reopened file.
  writer_.reset();  // one writer at a time: the reopen waits for the writer lock
  auto w = StoreWriter::open(path_);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  writer_ = std::move(*w);
  ASSERT_TRUE(writer_->rename_folder(b, "B2").is_ok());
  ASSERT_TRUE(writer_->move_folder(a, d).is_ok());
  EXPECT_FALSE(writer_->move_folder(d, a).is_ok()) << "a folder must not move below itself";
  commit();

  auto store = reopen();
  ASSERT_TRUE(store);
  const std::string d_name = ansi() ? "D renamed café" : "D renamed 日本 🎉";
  EXPECT_TRUE(find(*store, top, {d_name, "C"}).is_ok());
  EXPECT_TRUE(find(*store, top, {d_name, "A", "B2"}).is_ok());
  EXPECT_FALSE(find(*store, top, {"A"}).is_ok());
  EXPECT_FALSE(find(*store, top, {"E"}).is_ok());
  EXPECT_EQ(store->db().find_node(e).status().code(), Code::kNotFound);
  auto moved_c = store->open_folder(c);
  ASSERT_TRUE(moved_c.is_ok());
  EXPECT_EQ(moved_c->content_count(), 1);
  EXPECT_EQ(moved_c->unread_count(), 1);
  expect_consistent_folders(*store, ndb::kNidRootFolder, "");
  expect_clean(path_);
}

TEST_P(WriterFeatures, EveryPropertyTypeRecipientsAttachmentsAndEmbeddedMessagesReadBack) {
  const Nid inbox = folder(writer_->ipm_subtree(), "Inbox");
  NewMessage all = note("Every type", true);
  for (auto& p : every_type()) all.properties.push_back(std::move(p));
  all.recipients = recipients();
  // Sizes at each boundary: empty, tiny, the largest heap allocation and one
  // more (a subnode), one data block and one more (an XBLOCK), 300 KB.
  for (size_t size : {size_t{0}, size_t{1}, size_t{3580}, size_t{3581}, size_t{8176}, size_t{8177},
                      size_t{300} * 1024}) {
    all.attachments.push_back(data_attachment("a" + std::to_string(size) + ".bin", pattern(size, uint32_t(size))));
  }
  const NewMessage deep = nested(0);
  const Nid m_all = message(inbox, all);
  const Nid m_deep = message(inbox, deep);
  commit();

  auto store = reopen();
  ASSERT_TRUE(store);
  auto got = store->open_message(m_all);
  ASSERT_TRUE(got.is_ok()) << got.status().message();
  expect_message(*got, all, "every type");
  auto got_deep = store->open_message(m_deep);
  ASSERT_TRUE(got_deep.is_ok());
  expect_message(*got_deep, deep, "nested");
  expect_consistent_folders(*store, ndb::kNidRootFolder, "");
  expect_clean(path_);
}

TEST_P(WriterFeatures, AttachmentLargeEnoughForAnXXBlockTree) {
  // More than one XBLOCK's worth of data blocks (Unicode: 1021 x 8176 bytes;
  // ANSI: 2043 x 8180) needs an XXBLOCK above the XBLOCKs (MS-PST 2.2.2.8.3.2).
  const size_t size = ansi() ? size_t{17} << 20 : size_t{9} << 20;
  NewMessage m = note("Big", false);
  m.attachments.push_back(data_attachment("big.bin", pattern(size, 42)));
  const Nid nid = message(writer_->ipm_subtree(), m);
  commit();
  auto store = reopen();
  ASSERT_TRUE(store);
  auto got = store->open_message(nid);
  ASSERT_TRUE(got.is_ok());
  expect_message(*got, m, "big");
  // The data tree root of the attachment's data is an XXBLOCK (btype 1, cLevel 2).
  auto atts = got->attachment_nids();
  ASSERT_TRUE(atts.is_ok() && atts->size() == 1);
  auto node = store->db().open_node(nid);
  ASSERT_TRUE(node.is_ok());
  auto att_node = (*node)->subnode((*atts)[0]);
  ASSERT_TRUE(att_node.is_ok());
  auto subs = (*att_node)->subnodes();
  ASSERT_TRUE(subs.is_ok());
  int levels = -1;
  for (const auto& s : *subs) {
    if (!ndb::bid_is_internal(s.data_bid)) continue;
    auto root = store->db().read_block(s.data_bid);
    ASSERT_TRUE(root.is_ok());
    if ((*root)->size() >= 2 && (**root)[0] == 0x01) levels = (**root)[1];
  }
  EXPECT_EQ(levels, 2);
  expect_clean(path_);
}

TEST_P(WriterFeatures, EditsReadBack) {
  const Nid top = writer_->ipm_subtree();
  const Nid inbox = folder(top, "Inbox"), archive = folder(top, "Archive");
  NewMessage first = note("First", true);
  first.recipients = recipients();
  for (size_t size : {size_t{10}, size_t{3581}, size_t{9000}}) {
    first.attachments.push_back(data_attachment("f" + std::to_string(size), pattern(size, uint32_t(size))));
  }
  const NewMessage second = nested(1), third = note("Third", true), fourth = note("Fourth", false);
  const Nid m1 = message(inbox, first), m2 = message(inbox, second), m3 = message(inbox, third),
            m4 = message(inbox, fourth);
  commit();

  writer_.reset();  // one writer at a time: the reopen waits for the writer lock
  auto w = StoreWriter::open(path_);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  writer_ = std::move(*w);
  // Modify: new subject, now read (flags read, changed, written back, as a
  // client does), a new property; remove the body.
  auto before = writer_->store().open_message(m1);
  ASSERT_TRUE(before.is_ok());
  const int32_t read_flags = before->properties().get_i32(prop::kMessageFlags).value_or(0) | 1;
  ASSERT_TRUE(writer_->set_message_properties(m1, {text(prop::kSubject, "First (edited)"),
                                                   i32(prop::kMessageFlags, read_flags),
                                                   prop(0x6930, ltp::kPtypInteger64, le(int64_t(77)))})
                  .is_ok());
  ASSERT_TRUE(writer_->remove_message_properties(m1, {prop::kBody}).is_ok());
  // Delete the middle attachment, add one to another message.
  auto atts = writer_->store().open_message(m1);
  ASSERT_TRUE(atts.is_ok());
  auto nids = atts->attachment_nids();
  ASSERT_TRUE(nids.is_ok() && nids->size() == 3);
  ASSERT_TRUE(writer_->delete_attachment(m1, (*nids)[1]).is_ok());
  const NewAttachment added = data_attachment("added.txt", pattern(5000, 5));
  ASSERT_TRUE(writer_->add_attachment(m3, added).is_ok());
  // Copy, move, delete.
  auto copy = writer_->copy_message(m2, archive);
  ASSERT_TRUE(copy.is_ok()) << copy.status().message();
  ASSERT_TRUE(writer_->move_message(m3, archive).is_ok());
  ASSERT_TRUE(writer_->delete_message(m4).is_ok());
  commit();

  auto store = reopen();
  ASSERT_TRUE(store);
  NewMessage first_now = first;
  first_now.properties = {text(prop::kMessageClass, "IPM.Note"), text(prop::kSubject, "First (edited)"),
                          i32(prop::kMessageFlags, 1), prop(0x6930, ltp::kPtypInteger64, le(int64_t(77)))};
  first_now.attachments.erase(first_now.attachments.begin() + 1);
  auto got1 = store->open_message(m1);
  ASSERT_TRUE(got1.is_ok());
  expect_message(*got1, first_now, "edited");
  EXPECT_FALSE(got1->properties().has(prop::kBody));
  NewMessage third_now = third;
  third_now.attachments.push_back(added);
  auto got3 = store->open_message(m3);
  ASSERT_TRUE(got3.is_ok());
  expect_message(*got3, third_now, "moved with a new attachment");
  auto got_copy = store->open_message(*copy);
  ASSERT_TRUE(got_copy.is_ok());
  expect_message(*got_copy, second, "copy");
  auto got2 = store->open_message(m2);
  ASSERT_TRUE(got2.is_ok());
  expect_message(*got2, second, "original of the copy");
  EXPECT_EQ(store->db().find_node(m4).status().code(), Code::kNotFound);
  EXPECT_EQ(store->db().find_node(m3)->parent_nid, archive);

  auto in = store->open_folder(inbox);
  auto ar = store->open_folder(archive);
  ASSERT_TRUE(in.is_ok() && ar.is_ok());
  EXPECT_EQ(in->content_count(), 2);  // first, second
  EXPECT_EQ(in->unread_count(), 0);
  EXPECT_EQ(ar->content_count(), 2);  // copy of second, third
  EXPECT_EQ(ar->unread_count(), 1);
  expect_consistent_folders(*store, ndb::kNidRootFolder, "");
  expect_clean(path_);
}

// MS-OXCMSG 2.2.1.6: mfHasAttach follows the attachments, even when a
// caller sets PidTagMessageFlags without it.
TEST_P(WriterFeatures, SettingMessageFlagsKeepsHasAttach) {
  NewMessage m = note("Flags", true);
  m.attachments.push_back(data_attachment("a.bin", pattern(10, 1)));
  const Nid nid = message(writer_->ipm_subtree(), m);
  commit();
  ASSERT_TRUE(writer_->set_message_properties(nid, {i32(prop::kMessageFlags, 1)}).is_ok());
  commit();
  auto store = reopen();
  ASSERT_TRUE(store);
  auto got = store->open_message(nid);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->properties().get_i32(prop::kMessageFlags), 0x11);
}

// ANSI stores: 8-bit strings are encoded in, and labelled with,
// PidTagMessageCodepage, so a reader does not decode them with the Internet
// code page (here UTF-8, the HTML body's).
TEST_P(WriterFeatures, AnsiStringsReadBackWithAnInternetCodepage) {
  NewMessage m = note("Café", false);
  m.properties.push_back(i32(prop::kInternetCodepage, 65001));
  const Nid nid = message(writer_->ipm_subtree(), m);
  commit();
  auto store = reopen();
  ASSERT_TRUE(store);
  auto got = store->open_message(nid);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->subject(), "Café");
}

TEST_P(WriterFeatures, NamedProperties) {
  // Names the store already maps (the empty store's template has some) keep
  // their ids and can be set on messages.
  // Copies: store() reloads the view, and with it the map, on every call.
  const std::map<uint16_t, NamedProperty> known = writer_->store().names().entries();
  ASSERT_FALSE(known.empty());
  const auto [known_id, known_name] = *known.begin();
  auto id = writer_->named_property_id(known_name);
  ASSERT_TRUE(id.is_ok()) << id.status().message();
  EXPECT_EQ(*id, known_id);
  NewMessage m = note("Named", false);
  m.named.push_back({known_name, ltp::kPtypInteger32, le(int32_t(5))});
  const Nid with_known = message(writer_->ipm_subtree(), m);

  // A new name (PS_PUBLIC_STRINGS, "pstkit-test").
  NamedProperty fresh;
  fresh.guid = Guid::from_fields(0x00020329, 0, 0, 0xC000000000000046ull);
  fresh.is_string = true;
  fresh.name = "pstkit-test";
  auto fresh_id = writer_->named_property_id(fresh);
  if (!fresh_id.is_ok() && fresh_id.status().code() == Code::kUnsupported) {
    commit();
    auto store = reopen();
    ASSERT_TRUE(store);
    auto got = store->open_message(with_known);
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(got->properties().get_i32(known_id), 5);
    expect_clean(path_);
    GTEST_SKIP() << "registering new named properties: " << fresh_id.status().message();
  }
  ASSERT_TRUE(fresh_id.is_ok()) << fresh_id.status().message();
  EXPECT_GE(*fresh_id, 0x8000);
  NewMessage n = note("Fresh name", false);
  n.named.push_back({fresh, ltp::kPtypString, utf8_to_utf16le(kLatin)});
  const Nid with_fresh = message(writer_->ipm_subtree(), n);
  commit();
  auto store = reopen();
  ASSERT_TRUE(store);
  const NamedProperty* mapped = store->names().find(*fresh_id);
  ASSERT_NE(mapped, nullptr);
  EXPECT_TRUE(mapped->is_string);
  EXPECT_EQ(mapped->name, "pstkit-test");
  EXPECT_EQ(mapped->guid, fresh.guid);
  auto got = store->open_message(with_fresh);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->properties().get_string(*fresh_id), kLatin);
  auto got_known = store->open_message(with_known);
  ASSERT_TRUE(got_known.is_ok());
  EXPECT_EQ(got_known->properties().get_i32(known_id), 5);
  expect_clean(path_);
}

INSTANTIATE_TEST_SUITE_P(Formats, WriterFeatures, ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const auto& format) { return format.param == ndb::FileFormat::kAnsi ? "Ansi" : "Unicode"; });

}  // namespace
}  // namespace pstkit
