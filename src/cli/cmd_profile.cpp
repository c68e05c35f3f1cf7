// pstkit profile list|create|delete|add-pst|set-default|show: the MAPI
// profiles of the current user (pstkit/mapi_profiles.h, docs/MAPI.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::cli {

namespace {

using namespace pstkit::mapi;

int fail(const Status& status) {
  std::cerr << "pstkit: profile: " << status.message() << "\n";
  return kExitBadInput;
}

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char* cwd = ::getcwd(nullptr, 0);
  if (!cwd) return path;
  std::string result = std::string(cwd) + "/" + path;
  std::free(cwd);
  return result;
}

std::string hex_text(const std::vector<uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

nlohmann::json value_json(const SectionProp& v) {
  switch (v.value.index()) {
    case 0: return std::get<int32_t>(v.value);
    case 1: return std::get<bool>(v.value);
    case 2: return std::get<std::string>(v.value);
    case 3: return std::get<uint64_t>(v.value);
    case 4: return hex_text(std::get<std::vector<uint8_t>>(v.value));
    default: return std::get<std::vector<std::string>>(v.value);
  }
}

std::string value_text(const SectionProp& v) {
  if (v.value.index() == 0) {
    char buf[32];
    const auto u = static_cast<uint32_t>(std::get<int32_t>(v.value));
    std::snprintf(buf, sizeof buf, "%u (0x%08X)", u, u);
    return buf;
  }
  nlohmann::json j = value_json(v);
  return j.is_string() ? j.get<std::string>() : j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json props_json(const PropBag& bag) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [id, v] : bag.values()) o[tag_display_name(v.tag)] = value_json(v);
  return o;
}

void print_props(const PropBag& bag, const char* indent) {
  for (const auto& [id, v] : bag.values()) {
    std::cout << indent << tag_display_name(v.tag) << " = " << value_text(v) << "\n";
  }
}

Result<ProfileStore> open_store() { return ProfileStore::open_default(); }

int profile_list(bool json) {
  auto store = open_store();
  if (!store) return fail(store.status());
  auto rows = store->list();
  if (!rows) return fail(rows.status());
  if (json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : *rows) a.push_back({{"name", r.name}, {"default", r.is_default}});
    std::cout << nlohmann::json{{"profiles", a}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  for (const auto& r : *rows) std::cout << r.name << (r.is_default ? "  (default)" : "") << "\n";
  return kExitOk;
}

int profile_create(const std::string& name) {
  auto store = open_store();
  if (!store) return fail(store.status());
  if (Status s = store->create_profile(name); !s) return fail(s);
  std::cout << "created profile " << name << "\n";
  return kExitOk;
}

int profile_delete(const std::string& name) {
  auto store = open_store();
  if (!store) return fail(store.status());
  if (Status s = store->delete_profile(name); !s) return fail(s);
  // Still recorded: a session holds it (removed when the last one ends).
  auto file = store->read();
  bool pending = false;
  if (file) {
    for (const auto& p : file->profiles) pending |= p.delete_pending && same_profile_name(p.name, name);
  }
  std::cout << (pending ? "marked profile " + name + " for deletion (in use)" : "deleted profile " + name) << "\n";
  return kExitOk;
}

int profile_set_default(const std::string& name) {
  auto store = open_store();
  if (!store) return fail(store.status());
  if (Status s = store->set_default_profile(name); !s) return fail(s);
  std::cout << "default profile: " << name << "\n";
  return kExitOk;
}

int profile_add_pst(const ProfileCommandOptions& options) {
  auto store = open_store();
  if (!store) return fail(store.status());
  const std::string path = absolute_path(options.file);
  std::string service = options.ansi ? "MSPST MS" : "MSUPST MS";
  if (::access(path.c_str(), F_OK) == 0) {
    auto kind = store_service_for_file(path);
    if (!kind) return fail(kind.status());
    service = *kind;
  } else if (!options.create) {
    std::cerr << "pstkit: profile: " << path << ": no such file (--create makes a new PST)\n";
    return kExitBadInput;
  }
  std::vector<CatalogDiagnostic> diagnostics;
  auto catalog = load_catalog(&diagnostics);
  for (const auto& d : diagnostics) std::cerr << "pstkit: warning: " << d.to_string() << "\n";
  if (!catalog) return fail(catalog.status());
  auto uid = store->create_service(options.name, service, options.display, *catalog);
  if (!uid) return fail(uid.status());
  std::vector<SectionProp> props{SectionProp::string_value(tags::kPstPath, path)};
  if (!options.display.empty()) props.push_back(SectionProp::string_value(tags::kDisplayName, options.display));
  if (options.create) {
    const uint32_t flags = kPstConfigCreateNowarn | (service == "MSPST MS" ? 0 : kPstConfigUnicode);
    props.push_back(SectionProp::long_value(tags::kPstConfigFlags, static_cast<int32_t>(flags)));
  }
  auto configured = store->configure_service(options.name, *uid, props);
  if (!configured) {
    (void)store->delete_service(options.name, *uid);  // no half-configured service stays behind
    return fail(configured.status());
  }
  std::cout << "added " << service << " service " << uid_hex(*uid) << " for " << path
            << (configured->created_store ? " (created)" : "") << " to profile " << options.name << "\n";
  return kExitOk;
}

int profile_show(const std::string& name, bool json) {
  auto store = open_store();
  if (!store) return fail(store.status());
  auto file = store->read();
  if (!file) return fail(file.status());
  const Profile* p = file->find(name);
  if (!p) return fail(Status::not_found("no profile '" + name + "'"));
  const bool is_default = same_profile_name(file->default_profile, p->name);
  if (json) {
    nlohmann::json services = nlohmann::json::array();
    for (const auto& s : p->services) {
      nlohmann::json providers = nlohmann::json::array();
      for (const auto& q : s.providers) {
        providers.push_back({{"uid", uid_hex(q.uid)}, {"section", q.section}, {"props", props_json(q.props)}});
      }
      services.push_back({{"uid", uid_hex(s.uid)},
                          {"service_name", s.name},
                          {"display_name", s.display_name()},
                          {"resource_flags", s.resource_flags()},
                          {"props", props_json(s.props)},
                          {"providers", providers}});
    }
    nlohmann::json o{{"name", p->name}, {"default", is_default}, {"services", services}};
    if (!p->rename_pending.empty()) o["rename_pending"] = p->rename_pending;
    std::cout << o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::cout << "profile " << p->name << (is_default ? "  (default)" : "") << "\n";
  if (!p->rename_pending.empty()) std::cout << "  to be renamed " << p->rename_pending << " when unused\n";
  if (p->services.empty()) std::cout << "  no message services\n";
  for (const auto& s : p->services) {
    std::cout << "  service " << uid_hex(s.uid) << "  " << s.name << "  \"" << s.display_name() << "\"\n";
    print_props(s.props, "    ");
    for (const auto& q : s.providers) {
      std::cout << "    provider " << uid_hex(q.uid) << "  " << q.section << "\n";
      print_props(q.props, "      ");
    }
  }
  return kExitOk;
}

}  // namespace

int cmd_profile(const ProfileCommandOptions& options) {
  switch (options.action) {
    case ProfileAction::kList: return profile_list(options.json);
    case ProfileAction::kCreate: return profile_create(options.name);
    case ProfileAction::kDelete: return profile_delete(options.name);
    case ProfileAction::kAddPst: return profile_add_pst(options);
    case ProfileAction::kSetDefault: return profile_set_default(options.name);
    case ProfileAction::kShow: return profile_show(options.name, options.json);
  }
  return kExitUsage;
}

}  // namespace pstkit::cli
