// pstkit: read, verify and write Outlook PST/OST files.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/item_type.h"
#include "cli/output.h"
#include "pstkit/codepage.h"

using namespace pstkit::cli;

namespace {

// CLI11 reports a first word that names no command as "A subcommand is
// required"; say what is wrong and list the commands instead.
bool report_unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (!word.empty() && word[0] == '-') continue;  // --help, --version
    std::string names;
    for (const CLI::App* cmd : app.get_subcommands({})) {
      if (cmd->check_name(word)) return false;
      names += (names.empty() ? "" : ", ") + cmd->get_name();
    }
    std::cerr << "pstkit: unknown command '" << word << "' (commands: " << names << ")\n";
    return true;
  }
  return false;
}

int run(int argc, char** argv) {
  // readpst's command line is getopt's, not CLI11's: `pstkit readpst ...`
  // and the pstkit-readpst link go straight to it.
  const std::string program = argc > 0 ? std::string(argv[0]) : std::string();
  const std::string base = program.substr(program.find_last_of('/') == std::string::npos ? 0 : program.find_last_of('/') + 1);
  if (base == "pstkit-readpst") return cmd_readpst(std::vector<std::string>(argv + 1, argv + argc));
  if (argc > 1 && std::string(argv[1]) == "readpst")
    return cmd_readpst(std::vector<std::string>(argv + 2, argv + argc));

  CLI::App app{"pstkit: read, verify and write Outlook .pst/.ost files.\n"
               "Exit status: 0 success, 1 damaged/unsupported/unreadable input or failed operation, 2 usage error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pstkit " PSTKIT_VERSION);

  std::string file, item;
  bool json = false, recursive = false, full = false;
  ReadOptions read;
  // --recover (pstkit/ndb_recovery.h) and --codepage on every reading command.
  auto add_recover = [&](CLI::App* cmd) {
    cmd->add_flag("--recover", read.recover,
                  "Read a file whose B-trees are damaged: index nodes and blocks from what survives plus a scan "
                  "of the whole file for intact blocks and B-tree pages");
    cmd->add_flag("--deleted", read.include_deleted,
                  "With --recover: also bring back nodes found only in stale B-tree pages (deleted items)");
    cmd->add_option("--codepage", read.codepage,
                    "Windows code page of the store's 8-bit strings (e.g. 932), in place of the recorded or "
                    "inferred one (see info); items that name their own keep it");
  };

  auto* info = app.add_subcommand("info", "Format, encoding, size, header fields and counts of a file");
  info->add_option("FILE", file, "PST or OST file")->required();
  info->add_flag("--json", json, "Print one JSON object");
  add_recover(info);

  auto* ls = app.add_subcommand("ls", "Folder tree with item counts (node ids in brackets)");
  ls->add_option("FILE", file, "PST or OST file")->required();
  ls->add_flag("-r,--recursive", recursive, "Also list the items of every folder");
  ls->add_flag("--json", json, "Print JSON lines");
  add_recover(ls);

  auto* show = app.add_subcommand("show", "One node for what it is: an item with its recipients and attachments, a "
                                          "folder, a table, the message store or the name-to-ID map");
  show->add_option("FILE", file, "PST or OST file")->required();
  show->add_option("ITEM", item, "Node id as printed by ls/dump, decimal or 0x hex (e.g. 2097188 or 0x200024)")
      ->required();
  show->add_flag("--json", json, "Print one JSON object");
  add_recover(show);

  // --unit SPEC of export and dump: a work unit of `pstkit plan`.
  const char* unit_help =
      "Only this work unit of pstkit plan: its JSON line, @FILE holding it, or - (read from standard input, as "
      "GNU parallel --pipe -N1 gives it); FILE comes from the unit";
  std::string dump_unit;
  auto* dump = app.add_subcommand("dump", "Stream every folder and item as JSON lines");
  auto* dump_file = dump->add_option("FILE", file, "PST or OST file");
  dump->add_option("--unit", dump_unit, std::string(unit_help) +
                                            "; prints the unit's items, and the folder's line when the unit "
                                            "starts at its first item")
      ->excludes(dump_file);
  dump->add_flag("--json", json, "JSON lines (the only format; accepted for clarity)");
  dump->add_flag("--full", full,
                 "Every property of every folder, item, recipient and attachment; attachment contents as size and "
                 "SHA-256; bodies decoded");
  add_recover(dump);

  auto* check = app.add_subcommand("check", "Read-only structural verification; exit 1 when anything is wrong");
  check->add_option("FILE", file, "PST or OST file")->required();
  check->add_flag("--json", json, "Print findings as JSON lines");

  // Writing commands: each one commits once, or leaves the file as it was.
  CreateCommandOptions create_options;
  std::string folder_path, source, dest;
  bool parents = false, remove_all = false;

  auto* create = app.add_subcommand("create", "Create a new, empty PST file");
  create->add_option("FILE", file, "PST file to create (must not exist)")->required();
  create->add_flag("--ansi", create_options.ansi, "ANSI (Outlook 97-2002) format instead of Unicode");
  create->add_option("--encoding", create_options.encoding, "Block encoding (default permute, Outlook's default)")
      ->check(CLI::IsMember({"none", "permute", "cyclic"}));
  create->add_option("--name", create_options.name, "Display name of the store (default \"Personal Folders\")");

  auto* mkdir = app.add_subcommand("mkdir", "Create a folder");
  mkdir->add_option("FILE", file, "PST file")->required();
  mkdir->add_option("PATH", folder_path, "Folder path below \"Top of Outlook data file\", e.g. Inbox/Projects")
      ->required();
  mkdir->add_flag("-p,--parents", parents, "Create missing parents; no error if the folder exists");

  auto* rm = app.add_subcommand("rm", "Delete a folder (by path) or an item (by node id)");
  rm->add_option("FILE", file, "PST file")->required();
  rm->add_option("TARGET", item, "Folder path, or node id of an item as printed by ls/dump")->required();
  rm->add_flag("-r,--recursive", remove_all, "Delete a folder with everything in it");

  auto* mv = app.add_subcommand("mv", "Move or rename a folder, or move an item to a folder");
  mv->add_option("FILE", file, "PST file")->required();
  mv->add_option("SRC", source, "Folder path, or node id of an item as printed by ls/dump")->required();
  mv->add_option("DEST", dest,
                 "Existing folder to move into; for a folder also a new path whose parent exists (rename)")
      ->required();

  ImportCommandOptions import_options;
  auto* import = app.add_subcommand("import", "Import .eml files, directories of them, mbox files and Maildirs");
  import->add_option("FILE", import_options.file, "PST file")->required();
  import->add_option("SRC", import_options.sources, "Sources (kind recognised from content)")->required();
  import->add_option("--folder", import_options.folder,
                     "Target folder path below the IPM subtree, created if missing; / is the top folder itself (default: one named after each SRC)");
  import->add_option("--batch", import_options.batch, "Messages per commit (default 500)");
  import->add_flag("--create", import_options.create, "Create the PST if it does not exist");
  import->add_flag("-v,--verbose", import_options.verbose, "Print a warning for every irregular message");
  import->add_flag("--flat", import_options.flat,
                   "Put everything under a directory SRC into one folder (default: subdirectories, mbox files "
                   "and Maildirs in it become subfolders)");

  RepairCommandOptions repair_options;
  auto* repair = app.add_subcommand(
      "repair", "Repair a damaged PST in place (the Inbox Repair Tool): rebuild it, keep the original as FILE.bak, "
                "log every finding and change in FILE.log; exit 0 when the file is clean afterwards");
  repair->add_option("FILE", repair_options.file, "PST file (ANSI or Unicode) to repair")->required();
  auto* backup = repair->add_option("--backup", repair_options.backup,
                                    "Where to keep the original (default FILE.bak; an existing file is never "
                                    "replaced: PATH.1, PATH.2... are taken instead)");
  repair->add_flag("--no-backup", repair_options.no_backup, "Keep no copy of the original")->excludes(backup);
  repair->add_option("--log", repair_options.log, "Log file (default FILE.log; appended to)");
  repair->add_flag("--json", repair_options.json, "Log as JSON lines; the summary on stdout as one JSON object");
  repair->add_flag("--dry-run", repair_options.dry_run,
                   "Rebuild into a temporary file and print what would change; change nothing");
  repair->add_flag("--deleted", repair_options.include_deleted,
                   "Also bring back deleted items stale pages still hold (into \"Recovered Deleted Items\")");
  repair->add_flag("-q,--quiet", repair_options.quiet, "Print nothing but errors");

  RecoverCommandOptions recover_options;
  auto* recover = app.add_subcommand(
      "recover", "Recover everything that can be found in any file (a damaged PST, an OST, a truncated file...) "
                 "into a new Unicode PST; IN is only read");
  recover->add_option("IN", recover_options.in, "File to recover from (never changed)")->required();
  recover->add_option("OUT", recover_options.out, "New PST file (must not exist)")->required();
  recover->add_option("--log", recover_options.log, "Log file (default OUT.log; appended to)");
  recover->add_flag("--json", recover_options.json, "Log as JSON lines; the summary on stdout as one JSON object");
  recover->add_flag("--deleted", recover_options.include_deleted,
                    "Also bring back deleted items stale pages still hold (into \"Recovered Deleted Items\")");
  recover->add_flag("-q,--quiet", recover_options.quiet, "Print nothing but errors");

  ExportCommandOptions export_options;
  auto* exporter = app.add_subcommand(
      "export", "Export every item as an RFC 5322 message converted as Outlook converts it, as .eml files, "
                "mbox files, Maildir++ or a Thunderbird tree named after the folders, or as Outlook .msg files, with manifest.json (per folder: items found, exported, "
                "failed and why; SHA-256 of every file); exit 3 when some items could not be exported");
  auto* export_files =
      exporter->add_option("FILE", export_options.files, "PST or OST files (several: each into DIR/<its name>)");
  exporter->add_option("-o,--output", export_options.out_dir,
                       "Output directory (created; must be empty, but see --resume, --overwrite and --unit)")
      ->required();
  exporter->add_option("--format", export_options.format,
                       "eml: one RFC 5322 file per item; mbox: one mboxrd file per folder; maildir: Maildir++ "
                       "(flags in the file names); thunderbird: a Local Folders tree (Inbox + Inbox.sbd/); msg: one "
                       "Outlook .msg file per item; ics: one iCalendar file per appointment, meeting, task and journal "
                       "entry; vcf: one vCard per contact and distribution list (other items are counted as skipped)")
      ->check(CLI::IsMember({"eml", "mbox", "maildir", "thunderbird", "msg", "ics", "vcf"}))
      ->capture_default_str();
  exporter->add_option("--vcard", export_options.vcard, "vCard version of .vcf files: 4.0 (RFC 6350) or 3.0 (RFC 2426)")
      ->check(CLI::IsMember({"4.0", "3.0"}))
      ->capture_default_str();
  exporter->add_option("--folder", export_options.folder,
                       "Only this folder (path below the top folder, e.g. Inbox/Projects) and its subfolders");
  exporter->add_option("--type", export_options.types,
                       "Only items of these types, by message class (comma-separated): mail, contact, appointment "
                       "(also meeting requests and responses), task, note, journal, distlist; the others are counted "
                       "per folder as skipped_by_filter")
      ->delimiter(',')
      ->check(CLI::IsMember(item_type_names()));
  exporter->add_option("-j,--jobs", export_options.jobs,
                       "Worker threads converting items (0: one per core); the output is the same for any number")
      ->check(CLI::Range(0u, 1024u))
      ->capture_default_str();
  exporter->add_flag("--resume", export_options.resume,
                     "Continue the interrupted export in DIR from its journal: files written whole are kept, the "
                     "rest is exported again (not with --overwrite)");
  exporter->add_flag("--overwrite", export_options.overwrite,
                     "Write into a directory that is not empty, starting over (an interrupted export's journal is "
                     "discarded)");
  std::string export_unit;
  exporter->add_option("--unit", export_unit,
                       std::string(unit_help) +
                           "; writes its items as the export of the whole file writes them, and "
                           "manifest-UNIT.json, into DIR whether it is empty or not (formats eml, msg, maildir, "
                           "ics, vcf)")
      ->excludes(export_files)
      ->excludes("--folder");

  PlanCommandOptions plan_options;
  auto* plan = app.add_subcommand(
      "plan", "Cut the items of PST/OST files into work units of about --target-bytes each, one JSON line per "
              "unit (file, folder, item range), for export --unit and dump --unit on many processes or machines "
              "(docs/SCALE.md)");
  plan->add_option("FILE", plan_options.files, "PST or OST files (several: units name the directory export gives each)")
      ->required();
  plan->add_option("--target-bytes", plan_options.target_bytes,
                   "Bytes of messages (PR_MESSAGE_SIZE) per unit; a folder larger than that is cut into item "
                   "ranges, an item larger than that is a unit of its own")
      ->required();
  plan->add_option("--folder", plan_options.folder,
                   "Only this folder (path below the top folder, e.g. Inbox/Projects) and its subfolders");
  plan->add_flag("--recover", plan_options.read.recover,
                 "Read a file whose B-trees are damaged (as the reading commands' --recover)");
  plan->add_flag("--deleted", plan_options.read.include_deleted,
                 "With --recover: also items found only in stale B-tree pages (deleted items)");
  exporter->add_flag("-q,--quiet", export_options.quiet, "Print nothing but errors");
  exporter->add_flag("--recover", export_options.read.recover,
                     "Read a file whose B-trees are damaged (as the reading commands' --recover)");
  exporter->add_flag("--deleted", export_options.read.include_deleted,
                     "With --recover: also items found only in stale B-tree pages (deleted items)");

  ProfileCommandOptions profile_options;
  auto* profile = app.add_subcommand("profile", "MAPI profiles of this user and their PST services (docs/MAPI.md)");
  profile->require_subcommand(1);
  auto* profile_list = profile->add_subcommand("list", "List the profiles; the default one is marked");
  profile_list->add_flag("--json", profile_options.json, "Print one JSON object");
  auto* profile_create = profile->add_subcommand("create", "Create an empty profile");
  profile_create->add_option("NAME", profile_options.name, "Profile name (up to 64 letters, digits, _ and spaces)")
      ->required();
  auto* profile_delete = profile->add_subcommand(
      "delete", "Delete a profile (one a session uses is hidden now and removed when the session ends)");
  profile_delete->add_option("NAME", profile_options.name, "Profile name")->required();
  auto* profile_add_pst = profile->add_subcommand("add-pst", "Add a PST (or OST) file to a profile as a message service");
  profile_add_pst->add_option("NAME", profile_options.name, "Profile name")->required();
  profile_add_pst->add_option("FILE", profile_options.file, "PST file (its kind is read from its header)")
      ->required();
  profile_add_pst->add_option("--display", profile_options.display, "Display name of the service");
  auto* add_create = profile_add_pst->add_flag("--create", profile_options.create,
                                               "Create FILE as a new empty PST when it does not exist");
  profile_add_pst->add_flag("--ansi", profile_options.ansi, "With --create: an ANSI (97-2002) PST")->needs(add_create);
  auto* profile_set_default = profile->add_subcommand("set-default", "Make a profile the default one");
  profile_set_default->add_option("NAME", profile_options.name, "Profile name")->required();
  auto* profile_show = profile->add_subcommand("show", "A profile's message services, providers and settings");
  profile_show->add_option("NAME", profile_options.name, "Profile name")->required();
  profile_show->add_flag("--json", profile_options.json, "Print one JSON object");

  // Listed for --help; run above (its options are readpst's: `pstkit readpst -h`).
  app.add_subcommand("readpst",
                     "readpst's command line and output layouts (-r, -S, -M, -e, -k, -u, -m ...) over pstkit's reader, "
                     "also installed as pstkit-readpst: `pstkit readpst -h` lists the options");

  if (report_unknown_command(app, argc, argv)) return kExitUsage;
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

  if (read.include_deleted && !read.recover) {
    std::cerr << "pstkit: --deleted needs --recover\n";
    return kExitUsage;
  }
  if (read.codepage != 0 && !pstkit::is_known_codepage(read.codepage)) {
    std::cerr << "pstkit: unknown code page " << read.codepage << "\n";
    return kExitUsage;
  }
  if (*info) return cmd_info(file, json, read);
  if (*ls) return cmd_ls(file, recursive, json, read);
  if (*show) return cmd_show(file, item, json, read);
  // export --unit / dump --unit: the file is the unit's.
  auto load_unit = [](const char* command, const std::string& spec, std::optional<WorkUnit>* unit,
                      std::vector<std::string>* files) {
    WorkUnit u;
    std::string error;
    if (!read_work_unit(spec, &u, &error)) {
      std::cerr << "pstkit: " << command << ": " << error << "\n";
      return false;
    }
    files->assign(1, u.file);
    *unit = std::move(u);
    return true;
  };
  if (*dump) {
    DumpOptions dump_options{true, full, std::nullopt};
    if (!dump_unit.empty()) {
      std::vector<std::string> files;
      if (!load_unit("dump", dump_unit, &dump_options.unit, &files)) return kExitUsage;
      file = files[0];
      read.recover |= dump_options.unit->recover;
      read.include_deleted |= dump_options.unit->include_deleted;
    } else if (file.empty()) {
      std::cerr << "pstkit: dump: FILE or --unit is required\n";
      return kExitUsage;
    }
    return cmd_dump(file, dump_options, read);
  }
  if (*check) return cmd_check(file, json);
  if (*create) return cmd_create(file, create_options);
  if (*mkdir) return cmd_mkdir(file, folder_path, parents);
  if (*rm) return cmd_rm(file, item, remove_all);
  if (*mv) return cmd_mv(file, source, dest);
  if (*import) return cmd_import(import_options);
  if (*repair) return cmd_repair(repair_options);
  if (*recover) return cmd_recover(recover_options);
  if (*exporter) {
    if (!export_unit.empty()) {
      if (!load_unit("export", export_unit, &export_options.unit, &export_options.files)) return kExitUsage;
      export_options.read.recover |= export_options.unit->recover;
      export_options.read.include_deleted |= export_options.unit->include_deleted;
    } else if (export_options.files.empty()) {
      std::cerr << "pstkit: export: FILE or --unit is required\n";
      return kExitUsage;
    }
    return cmd_export(export_options);
  }
  if (*plan) {
    if (plan_options.read.include_deleted && !plan_options.read.recover) {
      std::cerr << "pstkit: --deleted needs --recover\n";
      return kExitUsage;
    }
    return cmd_plan(plan_options);
  }
  if (*profile) {
    if (*profile_list) profile_options.action = ProfileAction::kList;
    if (*profile_create) profile_options.action = ProfileAction::kCreate;
    if (*profile_delete) profile_options.action = ProfileAction::kDelete;
    if (*profile_add_pst) profile_options.action = ProfileAction::kAddPst;
    if (*profile_set_default) profile_options.action = ProfileAction::kSetDefault;
    if (*profile_show) profile_options.action = ProfileAction::kShow;
    return cmd_profile(profile_options);
  }
  return kExitUsage;
}

// glibc hands a thread arena's free top back to the kernel once it passes
// 128 KiB, so an export that builds and frees a few buffers per item gave
// back and faulted in the same pages 35,000-95,000 times on a 1.2 GB store:
// 9 % of its CPU on a VM (docs/BENCHMARKS.md, "Allocator"). Keeping up to
// 8 MiB free per arena, and serving blocks below 8 MiB from the arenas,
// costs at most that much resident memory after a large item.
void keep_freed_memory() {
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CheckedStdout out;
  return out.finish(run(argc, argv));
}
