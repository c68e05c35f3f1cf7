// Rendering of property names and values for show and dump.
#include <nettle/sha2.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <vector>

#include "cli/cli.h"
#include "export/item_text.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/property_names.h"

namespace pstkit::cli {

void print_error(const std::string& file, const Status& status) {
  std::cerr << "pstkit: " << file << ": " << status.message() << "\n";
}

namespace {

// The reading commands visit each object once, so the block cache spares
// almost no reads: dump --json --full of the corpus' enron.pst and 16 MB OST
// made 1499 and 1228 preads with the library's 2 MiB, 1501 and 1234 with
// 256 KiB, and its peak RSS fell by 1.3-1.9 MB.
constexpr size_t kReadingBlockCacheBytes = size_t{256} << 10;

StoreOptions store_options(const ReadOptions& options) {
  StoreOptions o;
  o.codepage_override = options.codepage;
  if (options.default_codepage != 0) o.default_codepage = options.default_codepage;
  o.ndb.cache_bytes = kReadingBlockCacheBytes;
  return o;
}

// Opens through a recovered index (pstkit/ndb_salvage.h) and says on stderr
// what it was built from.
Result<std::unique_ptr<Store>> open_recovered_store(const std::string& path, const ReadOptions& options) {
  ndb::SalvageOptions recovery;
  recovery.include_deleted = options.include_deleted;
  ndb::SalvageReport report;
  PSTKIT_ASSIGN_OR_RETURN(auto db, ndb::open_salvaged(path, {}, recovery, &report));
  for (const auto& e : report.tree_errors) std::cerr << "pstkit: " << path << ": skipped " << e << "\n";
  std::cerr << "pstkit: " << path << ": salvaged: " << report.nodes_from_tree << " nodes through the NBT, "
            << report.nodes_from_scan << " from NBT pages found by a scan (" << report.nbt_pages_found
            << " pages); " << report.blocks_from_tree << " blocks intact where the BBT says, "
            << report.blocks_relocated << " read from another copy, " << report.blocks_from_scan
            << " found by the scan, " << report.damaged_blocks << " damaged; " << report.blocks_corrected
            << " blocks and " << report.pages_corrected << " B-tree pages had a flipped bit corrected\n";
  StoreOptions o = store_options(options);
  o.tolerate_unreadable_store = true;
  PSTKIT_ASSIGN_OR_RETURN(auto store, Store::open(std::move(db), o));
  if (!store->store_damage().is_ok()) {
    std::cerr << "pstkit: " << path << ": " << store->store_damage().message()
              << "; read without the store's own properties\n";
  }
  return store;
}

}  // namespace

ndb::WriterOptions writer_options() {
  ndb::WriterOptions o;
  o.notice = [](const std::string& text) { std::cerr << "pstkit: " << text << "\n"; };
  return o;
}

void report_recovery(const std::string& path, const ndb::RecoveryReport& report) {
  if (report.rolled_back_journal) {
    std::cerr << "pstkit: " << path << ": undid a commit interrupted before its header was written\n";
  }
  if (report.rolled_forward_journal) {
    std::cerr << "pstkit: " << path << ": completed a commit interrupted after its header was written\n";
  }
}

void report_pending_journal(const std::string& path) {
  const ndb::PendingJournal p = ndb::inspect_journal(path);
  using Kind = ndb::PendingJournal::Kind;
  // A live writer's journal is a commit in progress, nothing to report.
  if ((p.kind == Kind::kRollForward || p.kind == Kind::kRollBack) && !p.writer_active) {
    std::cerr << "pstkit: " << path << ": a commit was interrupted "
              << (p.kind == Kind::kRollForward ? "after" : "before")
              << " its header was written; reading the committed state (the next writing command completes the "
                 "recovery)\n";
  } else if (p.kind == Kind::kForeign) {
    std::cerr << "pstkit: " << path << ": warning: " << path << "-journal is not a pstkit journal (" << p.detail
              << "); reading the file as it is\n";
  }
}

std::unique_ptr<Store> open_store_or_report(const std::string& path, const ReadOptions& options) {
  // Reading never writes: an interrupted commit is read as its journal says
  // it stands, and left for the next writer (docs/COMMIT_PROTOCOL.md).
  report_pending_journal(path);
  auto store = options.recover ? open_recovered_store(path, options) : Store::open(path, store_options(options));
  if (!store) {
    print_error(path, store.status());
    return nullptr;
  }
  return std::move(*store);
}

std::vector<std::string> split_path(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool parse_nid(const std::string& text, Nid* out) {
  // Decimal (leading zeros are still decimal) or 0x hex; no sign, no
  // spaces, no octal: "02097860" is 2097860, "+5" and "0o7" are rejected.
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  if (digits.empty()) return false;
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  *out = Nid(value);
  return true;
}

std::string property_name(const Store& store, PropTag tag) {
  // One id can name different properties by type (0x6619 is
  // PidTagUserEntryId as PtypBinary, PidTagPstBodyPrefix as PtypString), so
  // names are looked up by id and type, as [MS-OXPROPS] lists them.
  const uint16_t id = ltp::tag_id(tag);
  const uint16_t type = ltp::tag_type(tag);
  if (id >= 0x8000) {
    if (const NamedProperty* np = store.names().find(id)) {
      if (np->is_string) {
        if (const char* n = named_string_name(np->guid, np->name)) return n;
        const char* set = property_set_name(np->guid);
        return std::string(set ? set : np->guid.to_string().c_str()) + ":" + np->name;
      }
      // [MS-OXCDATA] 2.6.1: in PS_MAPI the LID is a tagged property id.
      const bool tagged = np->guid == property_sets::kPsMapi && np->lid < 0x8000;
      if (const char* n = tagged ? tag_name(uint16_t(np->lid), type) : named_lid_name(np->guid, np->lid)) return n;
      const char* set = property_set_name(np->guid);
      return std::string(set ? set : np->guid.to_string().c_str()) + ":" + hex(np->lid);
    }
  }
  if (const char* n = tag_name(id, type)) return n;
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", id);
  return buf;
}

std::string filetime_to_iso(uint64_t ft) {
  // FILETIME counts 100 ns intervals since 1601-01-01 UTC.
  constexpr uint64_t kEpochDelta = 116444736000000000ull;
  const int64_t unix100 = int64_t(ft) - int64_t(kEpochDelta);
  int64_t secs = unix100 / 10000000;
  int64_t rem = unix100 % 10000000;
  if (rem < 0) {
    rem += 10000000;
    --secs;
  }
  std::tm tm{};
  const time_t t = time_t(secs);
  if (!gmtime_r(&t, &tm)) return std::to_string(ft);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(rem / 10000));
  return buf;
}

std::string base64(ByteView d) {
  std::string out(item_text::base64_length(d.size()), '\0');
  item_text::base64_encode(out.data(), d.data(), d.size());
  return out;
}

namespace {

std::string to_hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

// nettle rather than OpenSSL: libcrypto alone cost ~3 ms of dynamic
// linking at every start.
struct Sha256 {
  sha256_ctx ctx;
  Sha256() { sha256_init(&ctx); }
  void update(ByteView d) { sha256_update(&ctx, d.size(), d.data()); }
  std::string hex() {
    uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof md, md);
    return to_hex(md, sizeof md);
  }
};

}  // namespace

std::string sha256_hex(ByteView data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string sha256_file_hex(const std::string& path, Status* error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (error) *error = Status::io_error(path + ": " + std::strerror(errno));
    return {};
  }
  Sha256 h;
  std::vector<uint8_t> buffer(1 << 16);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) h.update(ByteView(buffer.data(), n));
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) {
    if (error) *error = Status::io_error(path + ": read error");
    return {};
  }
  return h.hex();
}

std::string sha256_hex(const ndb::Node& node, Status* error) {
  // Block by block, so a large attachment is never held whole.
  Sha256 h;
  for (size_t i = 0; i < node.block_count(); ++i) {
    auto b = node.block(i);
    if (!b) {
      if (error) *error = b.status();
      return {};
    }
    h.update(**b);
  }
  return h.hex();
}

namespace {

nlohmann::json scalar_json(const PropertyBag& bag, uint16_t type, const PropValue& v) {
  using namespace ltp;
  switch (type) {
    case kPtypInteger16: if (auto r = v.as_i16()) return *r; break;
    case kPtypInteger32: if (auto r = v.as_i32()) return *r; break;
    case kPtypErrorCode: if (auto r = v.as_i32()) return hex(uint32_t(*r)); break;
    case kPtypInteger64: if (auto r = v.as_i64()) return *r; break;
    case kPtypBoolean: if (auto r = v.as_bool()) return *r; break;
    case kPtypFloating32: if (auto r = v.as_float()) return double(*r); break;
    case kPtypFloating64:
    case kPtypFloatingTime: if (auto r = v.as_double()) return *r; break;
    case kPtypCurrency: if (auto r = v.as_currency()) return double(*r) / 10000.0; break;
    case kPtypTime: if (auto r = v.as_time()) return filetime_to_iso(*r); break;
    case kPtypGuid:
      if (v.data.size() == 16) return pstkit::Guid::from_bytes(v.data.data()).to_string();
      break;
    case kPtypString:
    case kPtypString8: return bag.decode_string(v);
    default: break;
  }
  return nlohmann::json{{"base64", base64(v.data)}};
}

}  // namespace

nlohmann::json property_value_json(const PropertyBag& bag, const PropValue& v) {
  const uint16_t type = v.type();
  if (!ltp::is_multi_valued(type)) return scalar_json(bag, type, v);
  auto elems = v.mv_elements();
  if (!elems) return nlohmann::json{{"error", elems.status().message()}, {"base64", base64(v.data)}};
  nlohmann::json arr = nlohmann::json::array();
  const uint16_t base = ltp::base_type(type);
  for (auto& e : *elems) {
    PropValue one;
    one.tag = ltp::make_tag(v.id(), base);
    one.data = std::move(e);
    arr.push_back(scalar_json(bag, base, one));
  }
  return arr;
}

std::string property_value_text(const PropertyBag& bag, const PropValue& v, size_t max_bytes) {
  const uint16_t type = ltp::base_type(v.type());
  const bool binary_like = type == ltp::kPtypBinary || type == ltp::kPtypObject || type == ltp::kPtypServerId ||
                           type == ltp::kPtypRestriction || type == ltp::kPtypRuleAction ||
                           !ltp::is_known_type(type);
  if (binary_like && !ltp::is_multi_valued(v.type())) {
    std::string s = std::to_string(v.data.size()) + " bytes";
    if (!v.data.empty()) {
      s += ": ";
      const size_t n = std::min(v.data.size(), max_bytes);
      s += to_hex(v.data.data(), n);
      if (n < v.data.size()) s += "...";
    }
    return s;
  }
  nlohmann::json j = property_value_json(bag, v);
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    return s;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pstkit::cli
