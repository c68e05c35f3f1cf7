// Property names: tagged, named, property sets, types, GUID text.
#include "pstkit/property_names.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <string>

namespace pstkit {
namespace {

using namespace property_sets;

TEST(PropertyNamesGuid, ToStringUsesRegistryFormat) {
  // On disk Data1..Data3 are little-endian (MS-DTYP 2.3.4).
  const uint8_t disk[16] = {0x02, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
                            0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  Guid g = Guid::from_bytes(disk);
  EXPECT_EQ(g.to_string(), "{00062002-0000-0000-C000-000000000046}");
  EXPECT_EQ(g, kPsetidAppointment);
  EXPECT_EQ(kPsetidMeeting.to_string(), "{6ED8DA90-450B-101B-98DA-00AA003F1305}");
  EXPECT_FALSE(g.is_null());
  EXPECT_TRUE(Guid{}.is_null());
}

TEST(PropertyNamesGuid, ParseRoundTrips) {
  auto g = Guid::parse("{6ed8da90-450b-101b-98da-00aa003f1305}");
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, kPsetidMeeting);
  auto bare = Guid::parse("00020329-0000-0000-C000-000000000046");
  ASSERT_TRUE(bare);
  EXPECT_EQ(*bare, kPsPublicStrings);
  for (const char* bad : {"", "{}", "00020329-0000-0000-C000-00000000004", "00020329-0000-0000-C000_000000000046",
                          "{00020329-0000-0000-C000-00000000004G}", "x00020329-0000-0000-C000-000000000046}"})
    EXPECT_FALSE(Guid::parse(bad)) << bad;
}

TEST(PropertyNamesGuid, OrderingAndHash) {
  EXPECT_LT(kPsetidAppointment, kPsetidTask);  // byte order: 0x02 < 0x03
  EXPECT_NE(kPsMapi, kPsPublicStrings);
  EXPECT_EQ(std::hash<Guid>()(kPsMapi), std::hash<Guid>()(Guid::from_bytes(kPsMapi.bytes)));
}

TEST(PropertyNamesTag, KnownIds) {
  EXPECT_STREQ(tag_name(0x0037), "PidTagSubject");
  EXPECT_EQ(tag_canonical_type(0x0037), 0x001F);
  EXPECT_STREQ(tag_name(0x0E1B), "PidTagHasAttachments");
  EXPECT_EQ(tag_canonical_type(0x0E1B), 0x000B);
  EXPECT_STREQ(tag_name(0x3001), "PidTagDisplayName");
  EXPECT_STREQ(tag_name(0x001A), "PidTagMessageClass");
  EXPECT_STREQ(tag_name(0x1000), "PidTagBody");
  EXPECT_STREQ(tag_name(0x3FDE), "PidTagInternetCodepage");
  EXPECT_STREQ(tag_name(0x3FFD), "PidTagMessageCodepage");
  EXPECT_STREQ(tag_name(0x0E07), "PidTagMessageFlags");
  EXPECT_STREQ(tag_name(0x3701), "PidTagAttachDataBinary");
  EXPECT_STREQ(tag_name(0x3A06), "PidTagGivenName");
  EXPECT_STREQ(tag_name(0x0C15), "PidTagRecipientType");
  EXPECT_STREQ(tag_name(0x3613), "PidTagContainerClass");
  EXPECT_STREQ(tag_name(0x7C07), "PidTagRoamingDictionary");
  EXPECT_STREQ(tag_name(0x7FFE), "PidTagAttachmentHidden");
}

TEST(PropertyNamesTag, PstInternalIds) {
  // [MS-PST] 2.1.2 and the 2.4.4 table templates.
  EXPECT_STREQ(tag_name(0x67FF), "PidTagPstPassword");
  EXPECT_EQ(tag_canonical_type(0x67FF), 0x0003);
  EXPECT_STREQ(tag_name(0x0E30), "PidTagReplItemid");
  EXPECT_STREQ(tag_name(0x0E33), "PidTagReplChangenum");
  EXPECT_STREQ(tag_name(0x67F2), "PidTagLtpRowId");
  EXPECT_STREQ(tag_name(0x67F3), "PidTagLtpRowVer");
  EXPECT_STREQ(tag_name(0x6635), "PidTagPstHiddenCount");
  EXPECT_STREQ(tag_name(0x6636), "PidTagPstHiddenUnread");
  EXPECT_STREQ(tag_name(0x66FA), "PidTagLatestPstEnsure");
}

TEST(PropertyNamesTag, TypeSelectsAmongSharedIds) {
  // 0x0001..0x0004 and 0x1000 are reused by the MS-PST name-to-id map.
  EXPECT_STREQ(tag_name(0x0002, 0x000B), "PidTagAlternateRecipientAllowed");
  EXPECT_STREQ(tag_name(0x0002, 0x0102), "PidTagNameidStreamGuid");
  EXPECT_STREQ(tag_name(0x0001, 0x0003), "PidTagNameidBucketCount");  // MS-PST wins over MAPI
  EXPECT_STREQ(tag_name(0x1000, 0x001F), "PidTagBody");
  EXPECT_STREQ(tag_name(0x1000, 0x0102), "PidTagNameidBucketBase");
  EXPECT_STREQ(tag_name(0x661D, 0x0003), "PidTagPstBestBodyProptag");
  EXPECT_STREQ(tag_name(0x661D, 0x000B), "PidTagOutOfOfficeState");
  // [MS-OXPROPS] types: 0x6619 and 0x1013 name different properties by type.
  EXPECT_STREQ(tag_name(0x6619, 0x001F), "PidTagPstBodyPrefix");
  EXPECT_STREQ(tag_name(0x6619, 0x0102), "PidTagUserEntryId");
  EXPECT_STREQ(tag_name(0x1013, 0x0102), "PidTagHtml");
  EXPECT_STREQ(tag_name(0x1013, 0x001F), "PidTagBodyHtml");
  EXPECT_STREQ(tag_name(0x0004, 0x0102), "PidTagNameidStreamString");
  EXPECT_STREQ(tag_name(0x0004, 0x001F), "PidTagAutoForwardComment");
  // PtypString8 finds the PtypString name (ANSI files), multi-valued only its own.
  EXPECT_STREQ(tag_name(0x0037, 0x001E), "PidTagSubject");
  EXPECT_EQ(tag_name(0x0037, 0x101F), nullptr);
  // A type no name of the id is documented with names nothing.
  EXPECT_EQ(tag_name(0x0037, 0x0102), nullptr);
  EXPECT_EQ(tag_name(0x6619, 0x0003), nullptr);
  EXPECT_EQ(tag_name(0x6638, 0x0003), nullptr);  // PidTagSerializedReplidGuidMap is PtypBinary
  // One name with two documented types: [MS-PST] says PtypInteger32, Outlook writes PtypBinary.
  EXPECT_STREQ(tag_name(0x0E30, 0x0003), "PidTagReplItemid");
  EXPECT_STREQ(tag_name(0x0E30, 0x0102), "PidTagReplItemid");
  EXPECT_EQ(tag_canonical_type(0x0E30), 0x0003);
  EXPECT_EQ(tag_id_by_name("PidTagReplItemid"), 0x0E30);
}

TEST(PropertyNamesTag, UnknownIds) {
  EXPECT_EQ(tag_name(0x0000), nullptr);
  EXPECT_EQ(tag_name(0x7777), nullptr);
  EXPECT_EQ(tag_name(0xFFFF, 0x0003), nullptr);
  EXPECT_EQ(tag_canonical_type(0x7777), 0);
}

TEST(PropertyNamesTag, LookupByName) {
  EXPECT_EQ(tag_id_by_name("PidTagSubject"), 0x0037);
  EXPECT_EQ(tag_id_by_name("pidtagsubject"), 0x0037);
  EXPECT_EQ(tag_id_by_name("PidTagPstPassword"), 0x67FF);
  EXPECT_FALSE(tag_id_by_name("PidTagNoSuchThing"));
  EXPECT_FALSE(tag_id_by_name(""));
  const TagInfo* t = find_tag_by_name("PidTagMessageSizeExtended");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id, 0x0E08);
  EXPECT_EQ(t->type, 0x0014);
}

TEST(PropertyNamesTag, TableIsSortedCompleteAndConsistent) {
  auto tags = all_tags();
  EXPECT_GT(tags.size(), 850u);
  std::map<std::string, uint16_t> lower_names;  // name -> id
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(tags[i - 1].id, tags[i].id);
    }
    ASSERT_NE(tags[i].name, nullptr);
    EXPECT_EQ(std::strncmp(tags[i].name, "PidTag", 6), 0) << tags[i].name;
    EXPECT_NE(type_name(tags[i].type), nullptr) << tags[i].name;
    std::string lower(tags[i].name);
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    // A name has one id; it may have a row for each type it is documented with.
    const auto [at, added] = lower_names.emplace(lower, tags[i].id);
    EXPECT_TRUE(added || at->second == tags[i].id) << "duplicate " << tags[i].name;
    // Every name finds a row with its own id.
    auto id = tag_id_by_name(tags[i].name);
    ASSERT_TRUE(id) << tags[i].name;
    EXPECT_EQ(*id, tags[i].id);
  }
}

TEST(PropertyNamesNamed, KnownLids) {
  EXPECT_STREQ(named_lid_name(kPsetidAppointment, 0x820D), "PidLidAppointmentStartWhole");
  EXPECT_STREQ(named_lid_name(kPsetidAppointment, 0x820E), "PidLidAppointmentEndWhole");
  EXPECT_STREQ(named_lid_name(kPsetidAppointment, 0x8205), "PidLidBusyStatus");
  EXPECT_STREQ(named_lid_name(kPsetidAppointment, 0x8208), "PidLidLocation");
  EXPECT_STREQ(named_lid_name(kPsetidCommon, 0x8503), "PidLidReminderSet");
  EXPECT_STREQ(named_lid_name(kPsetidCommon, 0x8580), "PidLidInternetAccountName");
  EXPECT_STREQ(named_lid_name(kPsetidTask, 0x8101), "PidLidTaskStatus");
  EXPECT_STREQ(named_lid_name(kPsetidAddress, 0x8083), "PidLidEmail1EmailAddress");
  EXPECT_STREQ(named_lid_name(kPsetidMeeting, 0x0003), "PidLidGlobalObjectId");
  EXPECT_STREQ(named_lid_name(kPsetidNote, 0x8B00), "PidLidNoteColor");
  EXPECT_STREQ(named_lid_name(kPsetidLog, 0x8700), "PidLidLogType");
  auto info = find_named_lid(kPsetidAppointment, 0x820D);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, 0x0040);  // PtypTime
  EXPECT_EQ(info->string_name, nullptr);
}

TEST(PropertyNamesNamed, PsMapiLidsAreTaggedIds) {
  // [MS-OXCDATA] 2.6.1: in PS_MAPI the LID is the property id.
  EXPECT_STREQ(named_lid_name(kPsMapi, 0x0037), "PidTagSubject");
  EXPECT_EQ(named_lid_name(kPsMapi, 0x9000), nullptr);
}

TEST(PropertyNamesNamed, UnknownNamed) {
  EXPECT_EQ(named_lid_name(kPsetidAppointment, 0x1), nullptr);
  EXPECT_EQ(named_lid_name(Guid{}, 0x820D), nullptr);
  EXPECT_EQ(named_string_name(kPsPublicStrings, "NoSuchName"), nullptr);
  EXPECT_EQ(named_string_name(Guid{}, "Keywords"), nullptr);
  EXPECT_FALSE(named_property_by_name("PidLidNothing"));
}

TEST(PropertyNamesNamed, StringNames) {
  EXPECT_STREQ(named_string_name(kPsPublicStrings, "Keywords"), "PidNameKeywords");
  EXPECT_STREQ(named_string_name(kPsInternetHeaders, "Content-Type"), "PidNameContentType");
  // Internet header names are case-insensitive.
  EXPECT_STREQ(named_string_name(kPsInternetHeaders, "content-type"), "PidNameContentType");
  auto info = find_named_string(kPsPublicStrings, "Keywords");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, 0x101F);  // PtypMultipleString
  EXPECT_STREQ(info->string_name, "Keywords");
}

TEST(PropertyNamesNamed, LookupByCanonicalName) {
  auto start = named_property_by_name("PidLidAppointmentStartWhole");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->set, kPsetidAppointment);
  EXPECT_EQ(start->lid, 0x820Du);
  auto keywords = named_property_by_name("pidnamekeywords");
  ASSERT_TRUE(keywords);
  EXPECT_EQ(keywords->set, kPsPublicStrings);
  EXPECT_STREQ(keywords->string_name, "Keywords");
}

TEST(PropertyNamesNamed, TableIsConsistent) {
  auto all = all_named_properties();
  EXPECT_GT(all.size(), 500u);
  std::set<std::string> names;
  for (const NamedPropertyInfo& p : all) {
    ASSERT_NE(p.name, nullptr);
    EXPECT_TRUE(std::strncmp(p.name, "PidLid", 6) == 0 || std::strncmp(p.name, "PidName", 7) == 0) << p.name;
    EXPECT_NE(property_set_name(p.set), nullptr) << p.name;
    EXPECT_NE(type_name(p.type), nullptr) << p.name;
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    if (p.string_name) {
      EXPECT_STREQ(named_string_name(p.set, p.string_name), p.name);
    } else {
      EXPECT_STREQ(named_lid_name(p.set, p.lid), p.name);
    }
    auto back = named_property_by_name(p.name);
    ASSERT_TRUE(back) << p.name;
    EXPECT_EQ(back->set, p.set);
  }
}

TEST(PropertyNamesSets, NamesAndGuids) {
  EXPECT_STREQ(property_set_name(kPsetidAppointment), "PSETID_Appointment");
  EXPECT_STREQ(property_set_name(kPsPublicStrings), "PS_PUBLIC_STRINGS");
  EXPECT_STREQ(property_set_name(kPsInternetHeaders), "PS_INTERNET_HEADERS");
  EXPECT_STREQ(property_set_name(kPsMapi), "PS_MAPI");
  EXPECT_EQ(property_set_name(Guid{}), nullptr);
  auto task = property_set_by_name("psetid_task");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->to_string(), "{00062003-0000-0000-C000-000000000046}");
  EXPECT_FALSE(property_set_by_name("PSETID_Nothing"));
  // The header's constants and the generated table agree.
  const std::pair<Guid, const char*> constants[] = {
      {kPsMapi, "PS_MAPI"}, {kPsPublicStrings, "PS_PUBLIC_STRINGS"},
      {kPsInternetHeaders, "PS_INTERNET_HEADERS"}, {kPsetidAppointment, "PSETID_Appointment"},
      {kPsetidTask, "PSETID_Task"}, {kPsetidAddress, "PSETID_Address"}, {kPsetidCommon, "PSETID_Common"},
      {kPsetidLog, "PSETID_Log"}, {kPsetidNote, "PSETID_Note"}, {kPsetidSharing, "PSETID_Sharing"},
      {kPsetidPostRss, "PSETID_PostRss"}, {kPsetidMeeting, "PSETID_Meeting"},
      {kPsetidMessaging, "PSETID_Messaging"}, {kPsetidUnifiedMessaging, "PSETID_UnifiedMessaging"},
      {kPsetidAirSync, "PSETID_AirSync"}, {kPsetidCalendarAssistant, "PSETID_CalendarAssistant"}};
  for (const auto& [guid, name] : constants) {
    EXPECT_STREQ(property_set_name(guid), name);
    EXPECT_EQ(property_set_by_name(name), guid);
  }
  auto sets = all_property_sets();
  for (size_t i = 1; i < sets.size(); ++i) {
    EXPECT_LT(sets[i - 1].guid, sets[i].guid);
  }
}

TEST(PropertyNamesTypes, Names) {
  EXPECT_STREQ(type_name(0x001F), "PtypString");
  EXPECT_STREQ(type_name(0x001E), "PtypString8");
  EXPECT_STREQ(type_name(0x1003), "PtypMultipleInteger32");
  EXPECT_STREQ(type_name(0x0102), "PtypBinary");
  EXPECT_STREQ(type_name(0x0040), "PtypTime");
  EXPECT_EQ(type_name(0x1001), nullptr);
  EXPECT_EQ(type_name(0x7777), nullptr);
  EXPECT_EQ(type_by_name("PtypMultipleString"), 0x101F);
  EXPECT_EQ(type_by_name("ptypboolean"), 0x000B);
  EXPECT_EQ(type_by_name("PtypEmbeddedTable"), 0x000D);
  EXPECT_FALSE(type_by_name("PtypNothing"));
}

}  // namespace
}  // namespace pstkit
