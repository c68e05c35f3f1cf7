// The service catalog in MAPI's mapisvc.inf format (file-format-of-mapisvc-inf.md
// and its section pages): [Services], [Default Services], one section per
// message service (property lines, Providers=, Sections=), one per provider.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "mapi/ascii_text.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::mapi {

std::string CatalogService::dll_name() const { return props.get_string(prop_id(tags::kServiceDllName)).value_or(""); }

std::string CatalogService::entry_name() const {
  auto entry = props.get_string(prop_id(tags::kServiceEntryName));
  if (entry && !entry->empty()) return *entry;
  return builtin ? "" : "MSGServiceEntry";
}

const CatalogService* Catalog::find(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

void Catalog::merge_over(const Catalog& over) {
  for (const auto& s : over.services) {
    bool replaced = false;
    for (auto& mine : services) {
      if (mine.name == s.name) {
        mine = s;
        replaced = true;
      }
    }
    if (!replaced) services.push_back(s);
  }
  if (!over.default_services.empty()) default_services = over.default_services;
  for (const auto& [name, bag] : over.extra_sections) extra_sections[name] = bag;
}

std::string CatalogDiagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

namespace {

// A section as read, before services are linked to their providers.
struct RawSection {
  uint32_t line = 0;  // of its header
  PropBag props;
  std::vector<std::string> providers;
  std::vector<std::string> sections;
  uint32_t providers_line = 0;
  uint32_t sections_line = 0;
};

struct RawEntry {
  std::string key, value;
  uint32_t line;
};

}  // namespace

Result<Catalog> parse_mapisvc_inf(std::string_view text, const std::string& file_name,
                                  std::vector<CatalogDiagnostic>* diagnostics) {
  if (text.size() > kMaxCatalogBytes) {
    return Status::invalid_argument(file_name + ": " + std::to_string(text.size()) + " bytes; a catalog may have at most " +
                                    std::to_string(kMaxCatalogBytes));
  }
  auto report = [&](uint32_t line, std::string message) {
    if (diagnostics) diagnostics->push_back({file_name, line, std::move(message)});
  };

  std::vector<RawEntry> services_list, default_list;
  std::map<std::string, RawSection, std::less<>> sections;
  enum class Kind { kNone, kServices, kDefaultServices, kIgnored, kSection } kind = Kind::kNone;
  RawSection* current = nullptr;
  uint32_t line_no = 0;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM

  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (raw.size() > kMaxCatalogLine) {
      report(line_no, "line longer than " + std::to_string(kMaxCatalogLine) + " bytes");
      continue;
    }
    if (raw.find('\0') != std::string_view::npos) {
      report(line_no, "NUL byte in line");
      continue;
    }
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;  // INF comments
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3) {
        report(line_no, "section header without closing ']'");
        kind = Kind::kIgnored;  // lines up to the next header belong nowhere
        current = nullptr;
        continue;
      }
      std::string name(trim(line.substr(1, line.size() - 2)));
      current = nullptr;
      if (ascii_iequals(name, "Services")) {
        kind = Kind::kServices;
      } else if (ascii_iequals(name, "Default Services")) {
        kind = Kind::kDefaultServices;
      } else if (ascii_iequals(name, "Help File Mappings")) {
        kind = Kind::kIgnored;
      } else {
        kind = Kind::kSection;
        auto [it, inserted] = sections.try_emplace(name);
        if (!inserted) report(line_no, "section [" + name + "] repeated; its entries are added to the first");
        else it->second.line = line_no;
        current = &it->second;
      }
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      report(line_no, "expected KEY=VALUE or [SECTION]");
      continue;
    }
    std::string_view key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key.empty()) {
      report(line_no, "empty key");
      continue;
    }
    switch (kind) {
      case Kind::kNone: report(line_no, "entry before any section"); break;
      case Kind::kIgnored: break;
      case Kind::kServices: services_list.push_back({std::string(key), std::string(value), line_no}); break;
      case Kind::kDefaultServices: default_list.push_back({std::string(key), std::string(value), line_no}); break;
      case Kind::kSection: {
        if (ascii_iequals(key, "Providers")) {
          current->providers = split_list(value);
          current->providers_line = line_no;
          break;
        }
        if (ascii_iequals(key, "Sections")) {
          current->sections = split_list(value);
          current->sections_line = line_no;
          break;
        }
        if (ascii_iequals(key, "UID")) break;  // the section's UID in extra sections; pstkit assigns its own
        auto tag = parse_tag_name(key);
        if (!tag.is_ok()) {
          report(line_no, tag.status().detail());
          break;
        }
        const bool numeric = key.size() == 8 && key.substr(0, 3) != "PR_";
        auto parsed = parse_property_text(*tag, value, numeric);
        if (!parsed.is_ok()) {
          report(line_no, parsed.status().detail());
          break;
        }
        (void)current->props.set(std::move(parsed).value());  // the parser made it of the tag's type
        break;
      }
    }
  }

  // Link [Services] entries to their sections and those to provider sections.
  Catalog catalog;
  std::set<std::string> listed;
  for (const auto& entry : services_list) {
    auto it = sections.find(entry.key);
    if (it == sections.end()) {
      report(entry.line, "service '" + entry.key + "' has no section [" + entry.key + "]");
      continue;
    }
    if (!listed.insert(entry.key).second) {
      report(entry.line, "service '" + entry.key + "' listed twice");
      continue;
    }
    const RawSection& raw = it->second;
    CatalogService service;
    service.name = entry.key;
    service.props = raw.props;
    service.display_name = entry.value.empty() ? raw.props.get_string(prop_id(tags::kDisplayName)).value_or(entry.key)
                                                : entry.value;
    if (raw.providers.empty()) report(raw.line, "service section [" + entry.key + "] has no Providers= entry");
    for (const auto& p : raw.providers) {
      auto pit = sections.find(p);
      if (pit == sections.end()) {
        report(raw.providers_line, "provider section [" + p + "] of service '" + entry.key + "' is missing");
        continue;
      }
      service.providers.push_back({p, pit->second.props});
    }
    for (const auto& s : raw.sections) {
      auto sit = sections.find(s);
      if (sit == sections.end()) {
        report(raw.sections_line, "section [" + s + "] of service '" + entry.key + "' is missing");
        continue;
      }
      service.extra_sections.push_back(s);
      catalog.extra_sections[s] = sit->second.props;
    }
    catalog.services.push_back(std::move(service));
  }
  for (const auto& entry : default_list) {
    if (!listed.count(entry.key)) {
      report(entry.line, "default service '" + entry.key + "' is not in [Services]");
      continue;
    }
    catalog.default_services.push_back(entry.key);
  }
  return catalog;
}

namespace {

CatalogService pst_service(const char* name, const char* display, const char* provider_section, bool unicode) {
  CatalogService s;
  s.name = name;
  s.display_name = display;
  s.builtin = true;
  (void)s.props.set(SectionProp::string_value(tags::kDisplayName, display));
  (void)s.props.set(SectionProp::long_value(tags::kResourceFlags, 0));
  CatalogProvider p;
  p.section = provider_section;
  (void)p.props.set(SectionProp::string_value(tags::kDisplayName, display));
  (void)p.props.set(SectionProp::string_value(tags::kProviderDisplay, display));
  (void)p.props.set(SectionProp::long_value(tags::kResourceType, static_cast<int32_t>(kMapiStoreProvider)));
  (void)p.props.set(SectionProp::long_value(tags::kResourceFlags, 0));
  // MSPST_UID_PROVIDER (mspst.h): the store provider's type UID.
  (void)p.props.set(SectionProp::binary_value(
      tags::kMdbProvider, {0x4E, 0x49, 0x54, 0x41, 0xF9, 0xBF, 0xB8, 0x01, 0x00, 0xAA, 0x00, 0x37, 0xD9, 0x6E, 0x00, 0x00}));
  (void)p.props.set(SectionProp::long_value(tags::kPstConfigFlags,
                                          unicode ? static_cast<int32_t>(kPstConfigUnicode) : 0));
  s.providers.push_back(std::move(p));
  return s;
}

}  // namespace

Catalog builtin_catalog() {
  Catalog c;
  c.services.push_back(pst_service("MSUPST MS", "Personal Folders", "MSUPST MSP", true));
  c.services.push_back(pst_service("MSPST MS", "Personal Folders (97-2002)", "MSPST MSP", false));
  // An OST read as a store of its own. Outlook has no such service (an OST
  // belongs to the Exchange service); the name is pstkit's.
  c.services.push_back(pst_service("PSTKIT OST", "Offline Folders", "PSTKIT OSTP", true));
  return c;
}

std::string system_catalog_path() {
  const char* env = std::getenv("PSTKIT_MAPISVC_INF");
  if (env && *env) return env;
  return "/etc/pstkit/mapisvc.inf";
}

Result<Catalog> load_catalog_from(const std::string& path, std::vector<CatalogDiagnostic>* diagnostics) {
  Catalog catalog = builtin_catalog();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return catalog;
    return Status::io_error(path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (text.size() <= kMaxCatalogBytes) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Status::io_error(path + ": " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  PSTKIT_ASSIGN_OR_RETURN(Catalog system, parse_mapisvc_inf(text, path, diagnostics));
  catalog.merge_over(system);
  return catalog;
}

Result<Catalog> load_catalog(std::vector<CatalogDiagnostic>* diagnostics) {
  return load_catalog_from(system_catalog_path(), diagnostics);
}

}  // namespace pstkit::mapi
