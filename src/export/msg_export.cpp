// MAPI message → .msg file ([MS-OXMSG]) in a compound file (compound_file.h).
#include "pstkit/msg_export.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include "export/compound_file.h"
#include "pstkit/codepage.h"
#include "pstkit/ndb.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

using ltp::PropValue;

// MS-OXMSG 2.4.2.1 property entry flags: readable and writable.
constexpr uint32_t kPropAttrReadable = 0x2;
constexpr uint32_t kPropAttrWritable = 0x4;
constexpr uint32_t kPropFlags = kPropAttrReadable | kPropAttrWritable;

// [MS-OXPROPS] ids the writer sets itself.
constexpr uint16_t kRowid = 0x3000;             // PidTagRowid (recipients)
constexpr uint16_t kAttachNumber = 0x0E21;      // PidTagAttachNumber
constexpr uint16_t kStoreSupportMask = 0x340D;  // PidTagStoreSupportMask
constexpr int32_t kStoreUnicodeOk = 0x00040000;  // MS-OXCSTOR 2.2.2.1.1 STORE_UNICODE_OK

// {00020D0B-0000-0000-C000-000000000046}: the class of a message storage,
// which Outlook gives a .msg file's root and its embedded messages.
constexpr std::array<uint8_t, 16> kMessageClsid = {0x0B, 0x0D, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                   0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
// MS-OXMSG 2.2.3.1.2: GUID indexes 1 and 2 are these; the GUID stream holds
// the others from index 3.
constexpr Guid kPsMapi = Guid::from_fields(0x00020328, 0, 0, 0xC000000000000046ULL);
constexpr Guid kPsPublicStrings = Guid::from_fields(0x00020329, 0, 0, 0xC000000000000046ULL);
constexpr uint32_t kNameBucketCount = 0x1F;  // MS-OXMSG 2.2.3.1.4

void put32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

std::string hex8(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", v);
  return text;
}

std::string substg_name(uint16_t id, uint16_t type) { return "__substg1.0_" + hex8((uint32_t(id) << 16) | type); }

// UTF-16LE of a PtypString value as stored, up to its first NUL: a MAPI
// string ends there (MS-OXCDATA 2.11.1), and the .msg entry's size counts
// one terminator (what some writers leave after it is not the value).
Bytes unicode_bytes(const Bytes& stored) {
  size_t n = 0;
  while (n + 1 < stored.size() && (stored[n] != 0 || stored[n + 1] != 0)) n += 2;
  return Bytes(stored.begin(), stored.begin() + ptrdiff_t(n));
}

// An 8-bit string value, up to its first NUL, as UTF-16LE.
Bytes string8_as_unicode(const Bytes& stored, uint32_t codepage) {
  size_t n = 0;
  while (n < stored.size() && stored[n] != 0) ++n;
  return utf8_to_utf16le(decode_codepage(ByteView(stored.data(), n), codepage));
}

// What MS-OXMSG keeps of a property: PST bookkeeping (0x67F0-0x67FF: row
// ids and versions of the tables, the password...) is no message data.
bool is_pst_internal(uint16_t id) { return id >= 0x67F0 && id <= 0x67FF; }

// An object's property stream and value streams, filled one property at a time.
class PropertyWriter {
 public:
  PropertyWriter(cfb::Storage& storage, Bytes header) : storage_(storage), stream_(std::move(header)) {}

  void fixed(uint16_t id, uint16_t type, const Bytes& value) {
    put32(stream_, (uint32_t(id) << 16) | type);
    put32(stream_, kPropFlags);
    // MS-OXMSG 2.4.2.1: 8 bytes, the value then zeros.
    for (size_t i = 0; i < 8; ++i) stream_.push_back(i < value.size() ? value[i] : 0);
  }
  // MS-OXMSG 2.4.2.2: the value in its own stream; `size` as the entry says it.
  void variable(uint16_t id, uint16_t type, Bytes value, uint32_t size) {
    put32(stream_, (uint32_t(id) << 16) | type);
    put32(stream_, kPropFlags);
    put32(stream_, size);
    put32(stream_, 0);
    storage_.streams[substg_name(id, type)] = std::move(value);
  }
  // An embedded message (PtypObject): its storage holds the value.
  void object(uint16_t id) {
    put32(stream_, (uint32_t(id) << 16) | ltp::kPtypObject);
    put32(stream_, kPropFlags);
    put32(stream_, 0xFFFFFFFF);
    put32(stream_, 0);
  }
  // MS-OXMSG 2.1.4.2: a length stream and one stream per value.
  void multi_variable(uint16_t id, uint16_t type, const std::vector<Bytes>& values) {
    Bytes lengths;
    const std::string base = substg_name(id, type);
    for (size_t i = 0; i < values.size(); ++i) {
      put32(lengths, uint32_t(values[i].size()));
      if (ltp::base_type(type) == ltp::kPtypBinary) put32(lengths, 0);  // 8-byte entries for binary
      storage_.streams[base + "-" + hex8(uint32_t(i))] = values[i];
    }
    const uint32_t size = uint32_t(lengths.size());
    variable(id, type, std::move(lengths), size);
  }
  void finish() { storage_.streams["__properties_version1.0"] = std::move(stream_); }

 private:
  cfb::Storage& storage_;
  Bytes stream_;
};

class MsgBuilder {
 public:
  MsgBuilder(const Store& store, const MsgOptions& options, std::vector<std::string>& notes)
      : store_(store), options_(options), notes_(notes) {}

  void build_message(const Message& message, cfb::Storage& storage, int depth, const std::string& where) {
    const bool top = depth == 0;
    // Recipients and attachments first: the header counts them.
    uint32_t recipient_count = 0, attachment_count = 0;
    if (auto recipients = message.recipients()) {
      for (const PropertyBag& r : *recipients) {
        cfb::Storage& rs = storage.storages["__recip_version1.0_#" + hex8(recipient_count)];
        PropertyWriter w(rs, Bytes(8, 0));  // MS-OXMSG 2.4.1.3: 8 reserved bytes
        std::vector<PropValue> extra;
        if (!r.has(kRowid)) extra.push_back(ltp::int32_value(kRowid, int32_t(recipient_count)));
        write_properties(w, r, extra, where + "recipient " + std::to_string(recipient_count));
        w.finish();
        ++recipient_count;
      }
    } else {
      note(where, "recipient table unreadable: " + recipients.status().message());
    }
    if (auto nids = message.attachment_nids()) {
      for (Nid nid : *nids) {
        cfb::Storage& as = storage.storages["__attach_version1.0_#" + hex8(attachment_count)];
        build_attachment(message, nid, as, attachment_count, depth, where);
        ++attachment_count;
      }
    } else {
      note(where, "attachment table unreadable: " + nids.status().message());
    }

    // MS-OXMSG 2.4.1.1 (top level, 32 bytes) and 2.4.1.2 (embedded, 24):
    // 8 reserved, next recipient id, next attachment id, the two counts.
    Bytes header(8, 0);
    put32(header, recipient_count);
    put32(header, attachment_count);
    put32(header, recipient_count);
    put32(header, attachment_count);
    if (top) header.resize(32, 0);
    PropertyWriter w(storage, std::move(header));
    std::vector<PropValue> extra;
    if (top) {
      // Every string is Unicode, which STORE_UNICODE_OK tells readers.
      const int32_t mask = message.properties().get_i32(kStoreSupportMask).value_or(0);
      extra.push_back(ltp::int32_value(kStoreSupportMask, mask | kStoreUnicodeOk));
    }
    write_properties(w, message.properties(), extra, where);
    w.finish();
    storage.clsid = kMessageClsid;
  }

  // MS-OXMSG 2.2.3: the named property mapping storage, after every object
  // has been written (embedded messages add to the same map).
  void write_name_map(cfb::Storage& root) {
    cfb::Storage& names = root.storages["__nameid_version1.0"];
    Bytes guids, entries, strings;
    std::map<uint32_t, Bytes> buckets;
    for (size_t index = 0; index < named_.size(); ++index) {
      const NamedProperty& p = named_[index];
      uint32_t guid_index;
      if (p.guid == kPsMapi) {
        guid_index = 1;
      } else if (p.guid == kPsPublicStrings) {
        guid_index = 2;
      } else {
        auto [it, added] = guid_index_.try_emplace(p.guid, uint32_t(guid_index_.size()) + 3);
        if (added) guids.insert(guids.end(), p.guid.bytes, p.guid.bytes + 16);
        guid_index = it->second;
      }
      // MS-OXMSG 2.2.3.1.2: property index (16 bits), GUID index (15), kind (1).
      const uint32_t kind_field = (uint32_t(index) << 16) | (guid_index << 1) | (p.is_string ? 1 : 0);
      uint32_t key;
      if (p.is_string) {
        // MS-OXMSG 2.2.3.1.3: a 4-byte length, the UTF-16LE name, padding to 4.
        const Bytes name = utf8_to_utf16le(p.name);
        put32(entries, uint32_t(strings.size()));
        put32(strings, uint32_t(name.size()));
        strings.insert(strings.end(), name.begin(), name.end());
        while (strings.size() % 4) strings.push_back(0);
        key = ndb::compute_crc(name.data(), name.size());
      } else {
        put32(entries, p.lid);
        key = p.lid;
      }
      put32(entries, kind_field);
      // MS-OXMSG 2.2.3.1.4: the hash bucket stream 0x1000 + (key XOR
      // (GUID index << 1 | kind)) MOD 0x1F lists it too.
      const uint32_t bucket = 0x1000 + ((key ^ ((guid_index << 1) | (p.is_string ? 1 : 0))) % kNameBucketCount);
      Bytes& b = buckets[bucket];
      put32(b, key);
      put32(b, kind_field);
    }
    names.streams[substg_name(0x0002, ltp::kPtypBinary)] = std::move(guids);
    names.streams[substg_name(0x0003, ltp::kPtypBinary)] = std::move(entries);
    names.streams[substg_name(0x0004, ltp::kPtypBinary)] = std::move(strings);
    for (auto& [id, data] : buckets) names.streams[substg_name(uint16_t(id), ltp::kPtypBinary)] = std::move(data);
  }

 private:
  struct NameKey {
    Guid guid;
    bool is_string;
    uint32_t lid;
    std::string name;
    auto operator<=>(const NameKey&) const = default;
  };

  const Store& store_;
  const MsgOptions& options_;
  std::vector<std::string>& notes_;
  std::map<NameKey, uint16_t> named_index_;
  std::vector<NamedProperty> named_;
  std::map<Guid, uint32_t> guid_index_;

  void note(const std::string& where, const std::string& what) {
    notes_.push_back(where.empty() ? what : where + ": " + what);
  }

  // The file's id for a property: standard ids as they are, a named one
  // (0x8000+ in the store's map) by its place in the file's map.
  std::optional<uint16_t> file_id(uint16_t id) {
    if (id < 0x8000) return id;
    const NamedProperty* p = store_.names().find(id);
    if (!p) return std::nullopt;
    NameKey key{p->guid, p->is_string, p->is_string ? 0 : p->lid, p->is_string ? p->name : std::string()};
    auto it = named_index_.find(key);
    if (it != named_index_.end()) return it->second;
    if (named_.size() >= 0x7FFF) return std::nullopt;  // the 0x8000-0xFFFE range is full
    const uint16_t assigned = uint16_t(0x8000 + named_.size());
    named_index_.emplace(std::move(key), assigned);
    named_.push_back(*p);
    return assigned;
  }

  // Writes a bag's properties (and `extra`, which replace the bag's with the
  // same id) in id order.
  void write_properties(PropertyWriter& w, const PropertyBag& bag, const std::vector<PropValue>& extra,
                        const std::string& where) {
    std::map<uint16_t, std::pair<uint16_t, const PropValue*>> by_file_id;  // file id → (source id, value)
    std::vector<uint16_t> unnamed;
    for (const PropValue& v : bag.values()) {
      if (is_pst_internal(v.id())) continue;
      auto id = file_id(v.id());
      if (!id) {
        unnamed.push_back(v.id());
        continue;
      }
      by_file_id[*id] = {v.id(), &v};
    }
    for (const PropValue& v : extra) by_file_id[v.id()] = {v.id(), &v};
    if (!unnamed.empty()) {
      std::string ids;
      for (uint16_t id : unnamed) ids += (ids.empty() ? "0x" : ", 0x") + hex8(id).substr(4);
      note(where, "named properties the store's name map does not name, left out: " + ids);
    }
    for (const auto& [id, source] : by_file_id) write_value(w, id, *source.second, bag.codepage(), where);
  }

  void write_value(PropertyWriter& w, uint16_t id, const PropValue& v, uint32_t codepage, const std::string& where) {
    const uint16_t type = v.type();
    switch (type) {
      case ltp::kPtypInteger16:
      case ltp::kPtypInteger32:
      case ltp::kPtypFloating32:
      case ltp::kPtypFloating64:
      case ltp::kPtypCurrency:
      case ltp::kPtypFloatingTime:
      case ltp::kPtypErrorCode:
      case ltp::kPtypBoolean:
      case ltp::kPtypInteger64:
      case ltp::kPtypTime:
        w.fixed(id, type, v.data);
        return;
      case ltp::kPtypString: {
        Bytes text = unicode_bytes(v.data);
        // MS-PST keeps a subject's prefix length as "\x01<len>" before it;
        // MAPI (and so a .msg file) has the subject without it.
        if (id == prop::kSubject) text = utf8_to_utf16le(normalize_subject(utf16le_to_utf8(text)));
        const uint32_t size = uint32_t(text.size() + 2);  // MS-OXMSG 2.4.2.2: the NUL counted
        w.variable(id, type, std::move(text), size);
        return;
      }
      case ltp::kPtypString8: {
        Bytes text = string8_as_unicode(v.data, codepage);
        if (id == prop::kSubject) text = utf8_to_utf16le(normalize_subject(utf16le_to_utf8(text)));
        const uint32_t size = uint32_t(text.size() + 2);
        w.variable(id, ltp::kPtypString, std::move(text), size);
        return;
      }
      case ltp::kPtypGuid:
      case ltp::kPtypBinary:
      case ltp::kPtypServerId: {
        const uint32_t size = uint32_t(v.data.size());
        w.variable(id, type, v.data, size);
        return;
      }
      default:
        break;
    }
    if (ltp::is_multi_valued(type)) {
      const uint16_t base = ltp::base_type(type);
      if (ltp::fixed_type_size(base) != 0) {
        // MS-OXMSG 2.1.4.1: the values one after the other, as PST keeps them.
        const uint32_t size = uint32_t(v.data.size());
        w.variable(id, type, v.data, size);
        return;
      }
      if (base == ltp::kPtypString || base == ltp::kPtypString8 || base == ltp::kPtypBinary) {
        auto elements = v.mv_elements();
        if (!elements) {
          note(where, "property 0x" + hex8((uint32_t(id) << 16) | type) + " unreadable: " + elements.status().message());
          return;
        }
        std::vector<Bytes> values;
        for (const Bytes& e : *elements) {
          if (base == ltp::kPtypBinary) {
            values.push_back(e);
          } else {
            // Each string with its terminating NUL.
            Bytes text = base == ltp::kPtypString ? unicode_bytes(e) : string8_as_unicode(e, codepage);
            text.push_back(0);
            text.push_back(0);
            values.push_back(std::move(text));
          }
        }
        w.multi_variable(id, base == ltp::kPtypBinary ? type : uint16_t(ltp::kPtypMultipleFlag | ltp::kPtypString),
                         values);
        return;
      }
    }
    // Objects (other than attachment data, written by build_attachment) and
    // types MS-OXMSG has no place for.
    note(where, "property 0x" + hex8((uint32_t(id) << 16) | type) + " of a type a .msg file does not hold: left out");
  }

  void build_attachment(const Message& message, Nid nid, cfb::Storage& storage, uint32_t index, int depth,
                        const std::string& where) {
    const std::string here = where + "attachment " + std::to_string(index);
    PropertyWriter w(storage, Bytes(8, 0));  // MS-OXMSG 2.4.1.3
    auto attachment = message.open_attachment(nid);
    if (!attachment) {
      note(here, "cannot open it: " + attachment.status().message());
      w.finish();
      return;
    }
    std::vector<PropValue> extra;
    if (!attachment->properties().has(kAttachNumber)) extra.push_back(ltp::int32_value(kAttachNumber, int32_t(index)));
    if (attachment->is_embedded_message()) {
      if (depth + 1 > options_.max_depth) {
        note(here, "embedded message deeper than " + std::to_string(options_.max_depth) + " levels: left out");
      } else if (auto inner = attachment->embedded_message()) {
        // MS-OXMSG 2.2.2.1: the embedded message's storage, its own header
        // and objects, the top level's name map.
        cfb::Storage& embedded = storage.storages[substg_name(prop::kAttachDataBin, ltp::kPtypObject)];
        build_message(*inner, embedded, depth + 1, here + "/");
        w.object(prop::kAttachDataBin);
      } else {
        note(here, "cannot read the embedded message: " + inner.status().message());
      }
    } else if (attachment->has_data()) {
      // By value, and OLE objects' data as PST keeps it, as PtypBinary.
      if (auto data = attachment->read_data()) {
        const uint32_t size = uint32_t(data->size());
        w.variable(prop::kAttachDataBin, ltp::kPtypBinary, std::move(*data), size);
      } else {
        note(here, "cannot read its data: " + data.status().message());
      }
    }
    write_properties(w, attachment->properties(), extra, here);
    w.finish();
  }
};

}  // namespace

Result<MsgResult> message_to_msg(const Store& store, const Message& message, const MsgOptions& options) {
  MsgResult result;
  MsgBuilder builder(store, options, result.notes);
  cfb::Storage root;
  builder.build_message(message, root, 0, "");
  builder.write_name_map(root);
  PSTKIT_ASSIGN_OR_RETURN(result.data, cfb::write_compound_file(root));
  return result;
}

}  // namespace pstkit
