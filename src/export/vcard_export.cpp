// vCard 4.0 (RFC 6350) or 3.0 (RFC 2426) from contacts and distribution
// lists ([MS-OXOCNTC]).
#include <cmath>

#include "export/item_text.h"
#include "pstkit/codepage.h"
#include "pstkit/ical_export.h"
#include "pstkit/property_names.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

using namespace item_text;
namespace ps = property_sets;

// [MS-OXPROPS] tagged properties of contacts.
constexpr uint16_t kTagGeneration = 0x3A05;
constexpr uint16_t kTagGivenName = 0x3A06;
constexpr uint16_t kTagSurname = 0x3A11;
constexpr uint16_t kTagMiddleName = 0x3A44;
constexpr uint16_t kTagDisplayNamePrefix = 0x3A45;
constexpr uint16_t kTagNickname = 0x3A4F;
constexpr uint16_t kTagCompanyName = 0x3A16;
constexpr uint16_t kTagTitle = 0x3A17;
constexpr uint16_t kTagDepartmentName = 0x3A18;
constexpr uint16_t kTagProfession = 0x3A46;
constexpr uint16_t kTagBirthday = 0x3A42;
constexpr uint16_t kTagWeddingAnniversary = 0x3A41;
constexpr uint16_t kTagGender = 0x3A4D;
constexpr uint16_t kTagPersonalHomePage = 0x3A50;
constexpr uint16_t kTagBusinessHomePage = 0x3A51;
constexpr uint16_t kTagLastModificationTime = 0x3008;
constexpr uint16_t kTagAttachmentContactPhoto = 0x7FFF;
// PSETID_Address LIDs.
constexpr uint32_t kLidFileUnder = 0x8005;
constexpr uint32_t kLidHtml = 0x802B;  // the contact's web page
constexpr uint32_t kLidWorkAddressStreet = 0x8045;
constexpr uint32_t kLidWorkAddressCity = 0x8046;
constexpr uint32_t kLidWorkAddressState = 0x8047;
constexpr uint32_t kLidWorkAddressPostalCode = 0x8048;
constexpr uint32_t kLidWorkAddressCountry = 0x8049;
constexpr uint32_t kLidWorkAddressPostOfficeBox = 0x804A;
constexpr uint32_t kLidDistributionListName = 0x8053;
constexpr uint32_t kLidDistributionListOneOffMembers = 0x8054;
constexpr uint32_t kLidDistributionListMembers = 0x8055;
constexpr uint32_t kLidInstantMessagingAddress = 0x8062;
constexpr uint32_t kLidBirthdayLocal = 0x80DE;
constexpr uint32_t kLidWeddingAnniversaryLocal = 0x80DF;

struct Address {
  const char* type;  // vCard TYPE, or null
  uint16_t street, city, state, postal_code, country, po_box;  // tagged ids
};
// MS-OXOCNTC 2.2.1.3: home, work (tags; the LIDs above are preferred) and other.
constexpr Address kAddresses[] = {
    {"home", 0x3A5D, 0x3A59, 0x3A5C, 0x3A5B, 0x3A5A, 0x3A5E},
    {"work", 0x3A29, 0x3A27, 0x3A28, 0x3A2A, 0x3A26, 0x3A2B},
    {nullptr, 0x3A63, 0x3A5F, 0x3A62, 0x3A61, 0x3A60, 0x3A64},
};

struct Phone {
  uint16_t tag;
  const char* types4;  // vCard 4.0 TYPE values
  const char* types3;  // vCard 3.0
};
// MS-OXOCNTC 2.2.1.4: every telephone and fax number of a contact.
constexpr Phone kPhones[] = {
    {0x3A1A, "voice", "VOICE,PREF"},          // PidTagPrimaryTelephoneNumber
    {0x3A08, "work,voice", "WORK,VOICE"},     // PidTagBusinessTelephoneNumber
    {0x3A1B, "work,voice", "WORK,VOICE"},     // PidTagBusiness2TelephoneNumber
    {0x3A57, "work,voice", "WORK,VOICE,MSG"}, // PidTagCompanyMainTelephoneNumber
    {0x3A09, "home,voice", "HOME,VOICE"},     // PidTagHomeTelephoneNumber
    {0x3A2F, "home,voice", "HOME,VOICE"},     // PidTagHome2TelephoneNumber
    {0x3A1C, "cell", "CELL,VOICE"},           // PidTagMobileTelephoneNumber
    {0x3A1E, "voice", "CAR,VOICE"},           // PidTagCarTelephoneNumber
    {0x3A1D, "voice", "VOICE"},               // PidTagRadioTelephoneNumber
    {0x3A21, "pager", "PAGER"},               // PidTagPagerTelephoneNumber
    {0x3A02, "voice", "VOICE"},               // PidTagCallbackTelephoneNumber
    {0x3A1F, "voice", "VOICE"},               // PidTagOtherTelephoneNumber
    {0x3A2E, "voice", "VOICE"},               // PidTagAssistantTelephoneNumber
    {0x3A2D, "voice", "ISDN"},                // PidTagIsdnNumber
    {0x3A4B, "textphone", "VOICE"},           // PidTagTtyTddPhoneNumber
    {0x3A2C, "text", "MSG"},                  // PidTagTelexNumber
    {0x3A23, "fax", "FAX,PREF"},              // PidTagPrimaryFaxNumber
    {0x3A24, "work,fax", "WORK,FAX"},         // PidTagBusinessFaxNumber
    {0x3A25, "home,fax", "HOME,FAX"},         // PidTagHomeFaxNumber
};

// PidLidEmail1..3 (MS-OXOCNTC 2.2.1.2): display name, address type, address,
// original display name.
constexpr uint32_t kEmailLids[3][3] = {{0x8080, 0x8082, 0x8083}, {0x8090, 0x8092, 0x8093}, {0x80A0, 0x80A2, 0x80A3}};

bool starts_with_class(const std::string& s, const char* prefix) {
  const size_t n = std::char_traits<char>::length(prefix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return s.size() == n || s[n] == '.';
}

std::string opt(const std::optional<std::string>& s) { return s ? escape_text(*s) : std::string(); }

// A date stored as a time: Outlook writes local midnight in UTC, so the
// nearest midnight is the date.
std::optional<int64_t> date_seconds(std::optional<uint64_t> ft) {
  if (!ft || !plausible_filetime(*ft)) return std::nullopt;
  const int64_t s = filetime_seconds(*ft) + 12 * 3600;
  if (civil_from_seconds_since_1601(s).year >= 4500) return std::nullopt;  // "no date"
  return s / 86400 * 86400;
}

std::string vcard_date(int64_t seconds, bool version3) {
  const std::string d = format_date(seconds);
  if (!version3) return d;
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
}

// MS-OXCDATA 2.2.5.1 One-Off EntryID: display name, address type and
// address, in UTF-16 when MAPI_UNICODE is set, else 8-bit.
struct OneOff {
  std::string name, type, address;
};
std::optional<OneOff> parse_one_off(const Bytes& id, uint32_t codepage) {
  static const uint8_t kProvider[16] = {0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19,
                                        0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02};
  ByteView b(id);
  if (!b.has(0, 24) || !std::equal(kProvider, kProvider + 16, id.begin() + 4)) return std::nullopt;
  const bool unicode = (b.u16(22) & 0x8000) != 0;
  size_t pos = 24;
  std::string fields[3];
  for (auto& f : fields) {
    size_t end = pos;
    if (unicode) {
      while (b.has(end, 2) && b.u16(end) != 0) end += 2;
      if (!b.has(end, 2)) return std::nullopt;
      f = utf16le_to_utf8(b.sub(pos, end - pos));
      pos = end + 2;
    } else {
      while (b.has(end, 1) && b.u8(end) != 0) ++end;
      if (!b.has(end, 1)) return std::nullopt;
      f = decode_codepage(b.sub(pos, end - pos), codepage);
      pos = end + 1;
    }
  }
  return OneOff{fields[0], fields[1], fields[2]};
}

std::string clean_uri_part(const std::string& s) {
  std::string out;
  for (char c : s)
    if (static_cast<unsigned char>(c) > 0x20 && c != '"' && c != '<' && c != '>') out += c;
  return out;
}

void write_photo(Lines& out, const Message& m, bool version3, std::vector<std::string>& notes) {
  auto nids = m.attachment_nids();
  if (!nids) return;
  for (Nid nid : *nids) {
    auto a = m.open_attachment(nid);
    if (!a || !a->properties().get_bool(kTagAttachmentContactPhoto).value_or(false)) continue;
    auto data = a->read_data(uint64_t{16} << 20);
    if (!data) {
      notes.push_back("contact photo (attachment " + std::to_string(nid) + "): " + data.status().message());
      return;
    }
    std::string mime = a->properties().get_string(prop::kAttachMimeTag).value_or("");
    if (mime.empty() || mime.find_first_of(" ;,\"") != std::string::npos) {
      const Bytes& d = *data;
      if (d.size() > 3 && d[0] == 0xFF && d[1] == 0xD8) mime = "image/jpeg";
      else if (d.size() > 4 && d[0] == 0x89 && d[1] == 'P') mime = "image/png";
      else if (d.size() > 3 && d[0] == 'G' && d[1] == 'I') mime = "image/gif";
      else if (d.size() > 2 && d[0] == 'B' && d[1] == 'M') mime = "image/bmp";
      else mime = "image/jpeg";
    }
    if (version3) {
      std::string type = mime.substr(mime.find('/') + 1);
      for (char& c : type) c = char(std::toupper(static_cast<unsigned char>(c)));
      out.add("PHOTO;ENCODING=b;TYPE=" + type, base64(*data));
    } else {
      out.add("PHOTO", "data:" + mime + ";base64," + base64(*data));
    }
    return;
  }
}

void write_contact(Lines& out, const Message& m, const Props& p, bool v3, std::vector<std::string>& notes) {
  const std::optional<std::string> surname = p.str(kTagSurname), given = p.str(kTagGivenName),
                                   middle = p.str(kTagMiddleName), prefix = p.str(kTagDisplayNamePrefix),
                                   generation = p.str(kTagGeneration);
  out.add("N", opt(surname) + ";" + opt(given) + ";" + opt(middle) + ";" + opt(prefix) + ";" + opt(generation));
  if (auto nick = p.str(kTagNickname)) out.add("NICKNAME", escape_text(*nick));
  if (auto g = p.bag().get_i32(kTagGender); g && !v3 && (*g == 1 || *g == 2)) out.add("GENDER", *g == 1 ? "F" : "M");
  const auto company = p.str(kTagCompanyName), department = p.str(kTagDepartmentName);
  if (company || department) out.add("ORG", opt(company) + (department ? ";" + opt(department) : ""));
  if (auto t = p.str(kTagTitle)) out.add("TITLE", escape_text(*t));
  if (auto r = p.str(kTagProfession)) out.add("ROLE", escape_text(*r));

  for (const Address& a : kAddresses) {
    std::optional<std::string> f[6] = {p.str(a.po_box), p.str(a.street), p.str(a.city),
                                       p.str(a.state), p.str(a.postal_code), p.str(a.country)};
    if (a.type && std::string(a.type) == "work") {
      // PidLidWorkAddress* are the work address Outlook edits (MS-OXOCNTC 2.2.1.3.2).
      const uint32_t lids[6] = {kLidWorkAddressPostOfficeBox, kLidWorkAddressStreet, kLidWorkAddressCity,
                                kLidWorkAddressState, kLidWorkAddressPostalCode, kLidWorkAddressCountry};
      for (int i = 0; i < 6; ++i)
        if (auto v = p.str(ps::kPsetidAddress, lids[i])) f[i] = v;
    }
    bool any = false;
    for (const auto& v : f) any = any || v.has_value();
    if (!any) continue;
    std::string name = "ADR";
    if (a.type) name += std::string(";TYPE=") + (v3 ? (std::string(a.type) == "home" ? "HOME" : "WORK") : a.type);
    out.add(name, opt(f[0]) + ";;" + opt(f[1]) + ";" + opt(f[2]) + ";" + opt(f[3]) + ";" + opt(f[4]) + ";" + opt(f[5]));
  }
  for (const Phone& ph : kPhones) {
    auto number = p.str(ph.tag);
    if (!number) continue;
    if (v3) out.add(std::string("TEL;TYPE=") + ph.types3, escape_text(*number));
    else out.add(std::string("TEL;VALUE=text;TYPE=\"") + ph.types4 + "\"", escape_text(*number));
  }
  for (int i = 0; i < 3; ++i) {
    auto address = p.str(ps::kPsetidAddress, kEmailLids[i][2]);
    if (!address) continue;
    auto type = p.str(ps::kPsetidAddress, kEmailLids[i][1]);
    if (type && *type != "SMTP" && address->find('@') == std::string::npos) continue;  // an EX address
    std::string params = "EMAIL";
    if (v3) params += ";TYPE=INTERNET" + std::string(i == 0 ? ",PREF" : "");
    else params += ";PREF=" + std::to_string(i + 1);
    out.add(params, escape_text(*address));
  }
  if (auto im = p.str(ps::kPsetidAddress, kLidInstantMessagingAddress)) out.add(v3 ? "X-MS-IMADDRESS" : "IMPP", escape_text(*im));
  // The local dates (PidLidBirthdayLocal, MS-OXOCNTC 2.2.1.5.2) where present.
  std::optional<int64_t> bday = date_seconds(p.time(ps::kPsetidAddress, kLidBirthdayLocal));
  if (!bday) bday = date_seconds(p.bag().get_time(kTagBirthday));
  if (bday) out.add("BDAY", vcard_date(*bday, v3));
  std::optional<int64_t> anniversary = date_seconds(p.time(ps::kPsetidAddress, kLidWeddingAnniversaryLocal));
  if (!anniversary) anniversary = date_seconds(p.bag().get_time(kTagWeddingAnniversary));
  if (anniversary) out.add(v3 ? "X-ANNIVERSARY" : "ANNIVERSARY", vcard_date(*anniversary, v3));
  for (uint16_t tag : {kTagBusinessHomePage, kTagPersonalHomePage})
    if (auto url = p.str(tag)) out.add(tag == kTagBusinessHomePage ? "URL;TYPE=work" : "URL;TYPE=home", escape_text(*url));
  if (auto url = p.str(ps::kPsetidAddress, kLidHtml);
      url && *url != p.str(kTagBusinessHomePage).value_or("") && *url != p.str(kTagPersonalHomePage).value_or(""))
    out.add("URL", escape_text(*url));
  write_photo(out, m, v3, notes);
}

void write_group(Lines& out, const Props& p, bool v3, std::vector<std::string>& notes) {
  out.add("N", ";;;;");
  std::vector<Bytes> members = p.binaries(ps::kPsetidAddress, kLidDistributionListOneOffMembers);
  if (members.empty()) members = p.binaries(ps::kPsetidAddress, kLidDistributionListMembers);
  size_t unreadable = 0;
  for (const Bytes& id : members) {
    auto one_off = parse_one_off(id, p.bag().codepage());
    const std::string address = one_off ? clean_uri_part(one_off->address) : std::string();
    if (address.empty() || (one_off->type != "SMTP" && address.find('@') == std::string::npos)) {
      ++unreadable;
      continue;
    }
    out.add(v3 ? "X-ADDRESSBOOKSERVER-MEMBER" : "MEMBER", "mailto:" + address);
  }
  if (unreadable)
    notes.push_back(std::to_string(unreadable) + " distribution list member(s) without an SMTP one-off entry id left out");
}

}  // namespace

bool has_vcard_form(const std::string& message_class) {
  return starts_with_class(message_class, "IPM.Contact") || starts_with_class(message_class, "IPM.DistList");
}

Result<ItemExport> message_to_vcard(const Message& message, const NameMap& names, const VcardOptions& options) {
  const std::string cls = message.message_class();
  if (!has_vcard_form(cls)) return Status::invalid_argument("class " + cls + " has no vCard form");
  const bool v3 = options.version3;
  const bool group = starts_with_class(cls, "IPM.DistList");
  const Props p(message.properties(), names);
  ItemExport result;
  Lines out;
  out.add("BEGIN", "VCARD");
  out.add("VERSION", v3 ? "3.0" : "4.0");
  if (!v3) out.add("PRODID", "-//pstkit//pstkit export//EN");
  if (group) out.add(v3 ? "X-ADDRESSBOOKSERVER-KIND" : "KIND", "group");
  std::optional<std::string> fn = group ? p.str(ps::kPsetidAddress, kLidDistributionListName) : std::nullopt;
  if (!fn) fn = p.str(prop::kDisplayName);
  if (!fn) fn = p.str(ps::kPsetidAddress, kLidFileUnder);
  if (!fn) fn = normalize_subject(message.subject());
  out.add("FN", escape_text(*fn));
  if (group) write_group(out, p, v3, result.notes);
  else write_contact(out, message, p, v3, result.notes);
  if (auto body = message.body_text(); body && !body->empty()) out.add("NOTE", escape_text(*body));
  std::string categories;
  for (const std::string& k : p.strings(ps::kPsPublicStrings, "Keywords"))
    if (!k.empty()) categories += (categories.empty() ? "" : ",") + escape_text(k);
  if (!categories.empty()) out.add("CATEGORIES", categories);
  const Bytes* key = message.properties().get_binary(prop::kSearchKey);
  out.add("UID", key && !key->empty() ? hex_upper(*key) : "pstkit-" + std::to_string(message.nid()));
  if (auto t = message.properties().get_time(kTagLastModificationTime))
    if (auto s = format_utc(*t)) out.add("REV", *s);
  out.add("END", "VCARD");
  result.data.assign(out.text().begin(), out.text().end());
  return result;
}

}  // namespace pstkit
