// Originator and recipient headers to address properties and recipient rows
// ([MS-OXCMAIL] 2.2.3.1).
#include "import/mapi_props.h"
#include "import/mime_convert.h"
#include "import/mime_text.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

struct Mailbox {
  std::string name;     // display name, UTF-8 ("" if none)
  std::string address;  // addr-spec
  const std::string& display() const { return name.empty() ? address : name; }
};

// Every mailbox of a list, group members included (a group with no members,
// "undisclosed-recipients:;", contributes none).
void collect(InternetAddressList* list, std::vector<Mailbox>& out, int depth = 0) {
  if (!list || depth > 4) return;
  const int n = gmime().internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = gmime().internet_address_list_get_address(list, i);
    if (is_address_group(a)) {
      collect(gmime().internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out, depth + 1);
      continue;
    }
    if (!is_address_mailbox(a)) continue;
    Mailbox m;
    m.name = sanitize_utf8(unfold(or_empty(gmime().internet_address_get_name(a))));
    m.address = sanitize_utf8(unfold(or_empty(gmime().internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)))));
    // Quotes left around a name by sloppy writers ("'Ann'" or "\"Ann\"").
    while (m.name.size() >= 2 && (m.name.front() == '\'' || m.name.front() == '"') && m.name.back() == m.name.front()) {
      m.name = m.name.substr(1, m.name.size() - 2);
    }
    if (m.address.empty() && m.name.empty()) continue;
    out.push_back(std::move(m));
  }
}

std::vector<Mailbox> mailboxes(InternetAddressList* list) {
  std::vector<Mailbox> out;
  collect(list, out);
  return out;
}

// A property group such as PidTagSentRepresenting* ([MS-OXCMAIL] 2.6.5):
// name, address type, e-mail address, SMTP address, entry id, search key.
struct AddressGroupIds {
  uint16_t name, address_type, email, smtp, entry_id, search_key;
};
constexpr AddressGroupIds kSentRepresenting{prop::kSentRepresentingName, prop::kSentRepresentingAddressType,
                                            prop::kSentRepresentingEmailAddress, prop::kSentRepresentingSmtpAddress,
                                            pid::kSentRepresentingEntryId, pid::kSentRepresentingSearchKey};
constexpr AddressGroupIds kSender{prop::kSenderName,       prop::kSenderAddressType, prop::kSenderEmailAddress,
                                  prop::kSenderSmtpAddress, pid::kSenderEntryId,     pid::kSenderSearchKey};

void set_address_group(std::vector<PropValue>& props, const AddressGroupIds& ids, const Mailbox& m) {
  set_property(props, string_value(ids.name, m.display()));
  set_property(props, string_value(ids.address_type, "SMTP"));
  set_property(props, string_value(ids.email, m.address));
  if (!m.address.empty()) {
    set_property(props, string_value(ids.smtp, m.address));
    set_property(props, binary_value(ids.entry_id, one_off_entry_id(m.display(), m.address)));
    set_property(props, binary_value(ids.search_key, smtp_search_key(m.address)));
  }
}

std::vector<PropValue> recipient_row(const Mailbox& m, int32_t type) {
  constexpr int32_t kDisplayTypeMailUser = 0;    // DT_MAILUSER
  constexpr int32_t kObjectTypeMailUser = 6;     // MAPI_MAILUSER
  constexpr int32_t kRecipientSendable = 0x1;    // recipSendable
  std::vector<PropValue> row;
  row.push_back(int32_value(prop::kRecipientType, type));
  row.push_back(string_value(prop::kDisplayName, m.display()));
  row.push_back(string_value(pid::kRecipientDisplayName, m.display()));
  row.push_back(string_value(pid::kTransmittableDisplayName, m.display()));
  row.push_back(string_value(prop::kAddressType, "SMTP"));
  row.push_back(string_value(prop::kEmailAddress, m.address));
  row.push_back(string_value(prop::kSmtpAddress, m.address));
  row.push_back(int32_value(pid::kDisplayType, kDisplayTypeMailUser));
  row.push_back(int32_value(pid::kObjectType, kObjectTypeMailUser));
  row.push_back(int32_value(pid::kRecipientFlags, kRecipientSendable));
  row.push_back(bool_value(pid::kResponsibility, false));
  row.push_back(bool_value(pid::kSendRichInfo, false));
  const Bytes entry_id = one_off_entry_id(m.display(), m.address);
  row.push_back(binary_value(pid::kEntryId, entry_id));
  row.push_back(binary_value(pid::kRecipientEntryId, entry_id));
  row.push_back(binary_value(prop::kSearchKey, smtp_search_key(m.address)));
  return row;
}

std::string display_list(const std::vector<Mailbox>& list) {
  std::string out;
  for (const auto& m : list) {
    if (!out.empty()) out += "; ";
    out += m.display();
  }
  return out;
}

// [MS-OXCDATA] 2.3.3 FlatEntryList of one-off entry ids (for
// PidTagReplyRecipientEntries).
Bytes flat_entry_list(const std::vector<Mailbox>& list) {
  Bytes entries;
  for (const auto& m : list) {
    const Bytes id = one_off_entry_id(m.display(), m.address);
    uint8_t size[4];
    store_le32(size, uint32_t(id.size()));
    append_bytes(entries, size, 4);
    append_bytes(entries, id.data(), id.size());
    while (entries.size() % 4) entries.push_back(0);
  }
  Bytes out(8);
  store_le32(out.data(), uint32_t(list.size()));
  store_le32(out.data() + 4, uint32_t(entries.size()));
  append_bytes(out, entries.data(), entries.size());
  return out;
}

}  // namespace

void map_addresses(GMimeMessage* message, const ConvertContext& context, NewMessage& out) {
  auto& props = out.properties;
  // 2.2.3.1.3: the first From address is the sent-representing user; the
  // Sender header, or else From, is the sender.
  const std::vector<Mailbox> from = mailboxes(gmime().g_mime_message_get_from(message));
  const std::vector<Mailbox> sender = mailboxes(gmime().g_mime_message_get_sender(message));
  if (from.empty() && sender.empty()) context.warn("no From or Sender address");
  if (!from.empty()) set_address_group(props, kSentRepresenting, from.front());
  if (!sender.empty()) {
    set_address_group(props, kSender, sender.front());
    if (from.empty()) set_address_group(props, kSentRepresenting, sender.front());
  } else if (!from.empty()) {
    set_address_group(props, kSender, from.front());
  }

  // 2.2.3.1.6 Reply-To.
  const std::vector<Mailbox> reply_to = mailboxes(gmime().g_mime_message_get_reply_to(message));
  if (!reply_to.empty()) {
    set_property(props, string_value(pid::kReplyRecipientNames, display_list(reply_to)));
    set_property(props, binary_value(pid::kReplyRecipientEntries, flat_entry_list(reply_to)));
  }

  // To, Cc and Bcc as recipient rows (PidTagRecipientType MAPI_TO 1, MAPI_CC
  // 2, MAPI_BCC 3) and the PidTagDisplay* summaries Outlook shows.
  const struct {
    GMimeAddressType type;
    int32_t recipient_type;
    uint16_t display_id;
  } kinds[] = {{GMIME_ADDRESS_TYPE_TO, 1, pid::kDisplayTo},
               {GMIME_ADDRESS_TYPE_CC, 2, pid::kDisplayCc},
               {GMIME_ADDRESS_TYPE_BCC, 3, pid::kDisplayBcc}};
  for (const auto& kind : kinds) {
    const std::vector<Mailbox> list = mailboxes(gmime().g_mime_message_get_addresses(message, kind.type));
    set_property(props, string_value(kind.display_id, display_list(list)));
    for (const auto& m : list) out.recipients.push_back(recipient_row(m, kind.recipient_type));
  }
}

}  // namespace pstkit::mime
