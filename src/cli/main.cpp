// pstkit: read, verify (and later write and repair) Outlook PST/OST files.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/cli.h"

using namespace pstkit::cli;

int main(int argc, char** argv) {
  CLI::App app{"pstkit: read and verify Outlook .pst/.ost files.\n"
               "Exit status: 0 success, 1 damaged/unsupported/unreadable input, 2 usage error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pstkit 0.1.0");

  std::string file, item;
  bool json = false, recursive = false, full = false;

  auto* info = app.add_subcommand("info", "Format, encoding, size, header fields and counts of a file");
  info->add_option("FILE", file, "PST or OST file")->required();
  info->add_flag("--json", json, "Print one JSON object");

  auto* ls = app.add_subcommand("ls", "Folder tree with item counts (node ids in brackets)");
  ls->add_option("FILE", file, "PST or OST file")->required();
  ls->add_flag("-r,--recursive", recursive, "Also list the items of every folder");
  ls->add_flag("--json", json, "Print JSON lines");

  auto* show = app.add_subcommand("show", "Every property of one item, its recipients and attachments");
  show->add_option("FILE", file, "PST or OST file")->required();
  show->add_option("ITEM", item, "Node id of a folder or message as printed by ls/dump (e.g. 2097188 or 0x200024)")
      ->required();
  show->add_flag("--json", json, "Print one JSON object");

  auto* dump = app.add_subcommand("dump", "Stream every folder and item as JSON lines");
  dump->add_option("FILE", file, "PST or OST file")->required();
  dump->add_flag("--json", json, "JSON lines (the only format; accepted for clarity)");
  dump->add_flag("--full", full,
                 "Every property of every folder, item, recipient and attachment; attachment contents as size and "
                 "SHA-256; bodies decoded");

  auto* check = app.add_subcommand("check", "Read-only structural verification; exit 1 when anything is wrong");
  check->add_option("FILE", file, "PST or OST file")->required();
  check->add_flag("--json", json, "Print findings as JSON lines");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (*info) return cmd_info(file, json);
  if (*ls) return cmd_ls(file, recursive, json);
  if (*show) return cmd_show(file, item, json);
  if (*dump) return cmd_dump(file, DumpOptions{true, full});
  if (*check) return cmd_check(file, json);
  return kExitUsage;
}
