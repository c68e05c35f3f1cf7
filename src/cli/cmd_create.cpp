// pstkit create FILE [--ansi] [--encoding none|permute|cyclic] [--name NAME]:
// a new, empty store laid out the way Outlook lays one out.
#include <iostream>

#include "cli/cli.h"
#include "pstkit/store_writer.h"

namespace pstkit::cli {
namespace {

bool parse_crypt(const std::string& name, ndb::CryptMethod* out) {
  if (name == "none") *out = ndb::CryptMethod::kNone;
  else if (name == "permute") *out = ndb::CryptMethod::kPermute;
  else if (name == "cyclic") *out = ndb::CryptMethod::kCyclic;
  else return false;
  return true;
}

}  // namespace

int cmd_create(const std::string& file, const CreateCommandOptions& options) {
  NewStoreOptions store_options;
  store_options.format = options.ansi ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;
  if (!parse_crypt(options.encoding, &store_options.crypt)) {
    std::cerr << "pstkit: create: unknown encoding '" << options.encoding << "' (none, permute or cyclic)\n";
    return kExitUsage;
  }
  if (!options.name.empty()) store_options.display_name = options.name;
  auto writer = StoreWriter::create(file, store_options, writer_options());
  if (!writer) {
    print_error(file, writer.status());
    return kExitBadInput;
  }
  std::cout << "created " << file << " (" << (options.ansi ? "ANSI" : "Unicode") << ", encoding "
            << options.encoding << ")\n";
  return kExitOk;
}

}  // namespace pstkit::cli
