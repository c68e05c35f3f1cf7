#include "cli/item_type.h"

#include <utility>

namespace pstkit::cli {
namespace {

struct ClassType {
  std::string_view message_class;
  ItemType type;
};

constexpr ClassType kClasses[] = {
    {"IPM.Contact", ItemType::kContact},          {"IPM.DistList", ItemType::kDistList},
    {"IPM.Appointment", ItemType::kAppointment},  {"IPM.Schedule.Meeting", ItemType::kAppointment},
    {"IPM.Task", ItemType::kTask},                {"IPM.TaskRequest", ItemType::kTask},
    {"IPM.StickyNote", ItemType::kNote},          {"IPM.Activity", ItemType::kJournal},
};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// `cls` is `base` or a subclass of it ("IPM.Task" and "IPM.Task.X", not "IPM.Tasks").
bool is_class_or_subclass(std::string_view cls, std::string_view base) {
  if (cls.size() < base.size() || !equal_ignoring_case(cls.substr(0, base.size()), base)) return false;
  return cls.size() == base.size() || cls[base.size()] == '.';
}

const std::pair<std::string, ItemType> kNames[] = {
    {"mail", ItemType::kMail}, {"contact", ItemType::kContact}, {"appointment", ItemType::kAppointment},
    {"task", ItemType::kTask}, {"note", ItemType::kNote},       {"journal", ItemType::kJournal},
    {"distlist", ItemType::kDistList},
};

}  // namespace

ItemType item_type_of(std::string_view message_class) {
  for (const ClassType& c : kClasses)
    if (is_class_or_subclass(message_class, c.message_class)) return c.type;
  return ItemType::kMail;
}

bool parse_item_types(const std::vector<std::string>& names, unsigned* mask, std::string* error) {
  *mask = 0;
  for (const std::string& name : names) {
    bool known = false;
    for (const auto& [n, type] : kNames) {
      if (n == name) {
        *mask |= unsigned(type);
        known = true;
      }
    }
    if (!known) {
      *error = "unknown item type " + name + " (mail, contact, appointment, task, note, journal, distlist)";
      return false;
    }
  }
  return true;
}

const std::vector<std::string>& item_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : kNames) out.push_back(entry.first);
    return out;
  }();
  return names;
}

}  // namespace pstkit::cli
