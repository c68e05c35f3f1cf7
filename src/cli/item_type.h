// Item types of `pstkit export --type`, from PR_MESSAGE_CLASS
// ([MS-OXCMSG] 2.2.1.3): a class belongs to a type when it is one of the
// type's classes or a subclass of one (the class, then ".", then more),
// compared without regard to case as Outlook compares classes.
//   contact      IPM.Contact                     [MS-OXOCNTC]
//   distlist     IPM.DistList                    [MS-OXOCNTC] 2.2.2
//   appointment  IPM.Appointment, IPM.Schedule.Meeting (requests, responses,
//                cancellations: they carry a meeting, [MS-OXOCAL] 2.2.6-8)
//   task         IPM.Task, IPM.TaskRequest       [MS-OXOTASK]
//   note         IPM.StickyNote                  [MS-OXONOTE]
//   journal      IPM.Activity                    [MS-OXOJRNL]
//   mail         every other class: IPM.Note and its subclasses (signed,
//                encrypted, receipts), reports (REPORT.*), posts, and items
//                with no class
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pstkit::cli {

enum class ItemType : unsigned {
  kMail = 1u << 0,
  kContact = 1u << 1,
  kAppointment = 1u << 2,
  kTask = 1u << 3,
  kNote = 1u << 4,
  kJournal = 1u << 5,
  kDistList = 1u << 6,
};

ItemType item_type_of(std::string_view message_class);

// "mail,contact" as a mask of ItemType bits; false with *error on a name
// that is not a type.
bool parse_item_types(const std::vector<std::string>& names, unsigned* mask, std::string* error);

// The type names, in the order --help lists them.
const std::vector<std::string>& item_type_names();

}  // namespace pstkit::cli
