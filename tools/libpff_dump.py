#!/usr/bin/python3
"""Dump a .pst/.ost with libpff (pypff) in the schema of `pstkit dump --json`.

Usage: tools/libpff_dump.py [--pretty] FILE

Needs Debian's python3-pypff, hence /usr/bin/python3 (a pyenv or venv python
found first on PATH usually lacks it).

Output: one JSON object per line (UTF-8, not ASCII-escaped), depth first,
each folder followed by its items and then its subfolders:

  {"type":"folder","path":[...],"items":N,"subfolders":M}
      for every folder including the root folder (libpff's root folder,
      NID 0x122, has path []; its children have path [child name], ...).
      items = pypff number_of_sub_messages (contents-table rows, including
      items that libpff then fails to read); subfolders = number_of_sub_folders.
  {"type":"item","folder":[...],"nid":N,"class":"IPM.Note","subject":"...","attachments":K}
      for every item in a folder's contents (pypff sub_messages).
      nid = pypff identifier (the item's NID); class = PidTagMessageClass
      (0x001A) from the item's first record set, key omitted if absent;
      subject = pypff subject (PidTagSubject with libpff's removal of the
      leading U+0001 prefix marker; "" if the item has none);
      attachments = number_of_attachments.
  {"type":"error","what":"...","message":"...", ...}
      instead of crashing when libpff fails on something. Context keys:
      "path" (folder), or "folder" + "index" (+ "nid" when known) for items.
      what = "open" | "root" | "folder" | "subfolder" | "item" | "subject" |
             "class" | "attachments" | "items" | "subfolders".
      An item whose subject or attachment count cannot be read is still
      printed, without that key.

Exit status: 0 if the file was opened and walked (even with error lines),
1 if libpff cannot open it or it has no root folder (one error line on
stdout and a one-line message on stderr), 2 on bad usage / no pypff.
"""

import json
import sys

PID_TAG_MESSAGE_CLASS = 0x001A
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F


def one_line(exc):
    return " ".join(str(exc).split())


class Dumper:
    def __init__(self, out, pretty=False):
        self.out = out
        self.pretty = pretty
        self.errors = 0

    def emit(self, obj):
        kw = {"indent": 1} if self.pretty else {"separators": (",", ":")}
        try:
            line = json.dumps(obj, ensure_ascii=False, **kw)
            data = line.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate cannot be UTF-8: fall back to \u escapes.
            data = json.dumps(obj, ensure_ascii=True, **kw).encode("ascii")
        self.out.write(data + b"\n")

    def error(self, what, exc, **ctx):
        self.errors += 1
        obj = {"type": "error", "what": what}
        obj.update(ctx)
        obj["message"] = one_line(exc)
        self.emit(obj)

    # -- items -------------------------------------------------------------

    @staticmethod
    def message_class(msg):
        """PidTagMessageClass from the item's first record set, or None."""
        if msg.get_number_of_record_sets() < 1:
            return None
        rs = msg.get_record_set(0)
        for j in range(rs.get_number_of_entries()):
            entry = rs.get_entry(j)
            if entry.get_entry_type() != PID_TAG_MESSAGE_CLASS:
                continue
            if entry.get_value_type() not in (PT_STRING8, PT_UNICODE):
                return None
            return entry.get_data_as_string()
        return None

    def dump_item(self, folder, path, index):
        try:
            msg = folder.get_sub_message(index)
        except Exception as exc:  # libpff refuses the item: report, go on
            self.error("item", exc, folder=path, index=index)
            return
        if msg is None:
            self.error("item", "libpff returned no item", folder=path, index=index)
            return
        obj = {"type": "item", "folder": path}
        try:
            obj["nid"] = int(msg.get_identifier())
        except Exception as exc:
            self.error("item", exc, folder=path, index=index)
            return
        ctx = {"folder": path, "index": index, "nid": obj["nid"]}
        try:
            cls = self.message_class(msg)
            if cls is not None:
                obj["class"] = cls
        except Exception as exc:
            self.error("class", exc, **ctx)
        try:
            subject = msg.get_subject()
            obj["subject"] = "" if subject is None else subject
        except Exception as exc:
            self.error("subject", exc, **ctx)
        try:
            obj["attachments"] = int(msg.get_number_of_attachments())
        except Exception as exc:
            self.error("attachments", exc, **ctx)
        self.emit(obj)

    # -- folders -----------------------------------------------------------

    def dump_folder(self, folder, path):
        """Print one folder and its items; return its subfolder count."""
        try:
            n_items = int(folder.get_number_of_sub_messages())
        except Exception as exc:
            self.error("items", exc, path=path)
            n_items = None
        try:
            n_sub = int(folder.get_number_of_sub_folders())
        except Exception as exc:
            self.error("subfolders", exc, path=path)
            n_sub = None
        self.emit({"type": "folder", "path": path,
                   "items": n_items if n_items is not None else 0,
                   "subfolders": n_sub if n_sub is not None else 0})
        for i in range(n_items or 0):
            self.dump_item(folder, path, i)
        return n_sub or 0

    def walk(self, root):
        # Explicit stack (no recursion limit); children pushed in reverse so
        # that they come out in libpff's order. `ancestors` guards against a
        # folder that (through damage) contains itself.
        stack = [(root, [], frozenset())]
        while stack:
            folder, path, ancestors = stack.pop()
            try:
                ident = int(folder.get_identifier())
            except Exception:
                ident = None
            if ident is not None and ident in ancestors:
                self.error("folder", "folder %d contains itself" % ident, path=path)
                continue
            n_sub = self.dump_folder(folder, path)
            inner = ancestors | {ident} if ident is not None else ancestors
            children = []
            for i in range(n_sub):
                try:
                    sub = folder.get_sub_folder(i)
                    if sub is None:
                        raise RuntimeError("libpff returned no folder")
                    name = sub.get_name()
                except Exception as exc:
                    self.error("subfolder", exc, path=path, index=i)
                    continue
                children.append((sub, path + ["" if name is None else name], inner))
            stack.extend(reversed(children))


def dump(filename, out, pretty=False):
    try:
        import pypff
    except ImportError as exc:
        sys.stderr.write("libpff_dump: cannot import pypff (%s); run with "
                         "/usr/bin/python3 and install python3-pypff\n" % exc)
        return 2
    d = Dumper(out, pretty)
    f = pypff.file()
    try:
        f.open(filename)
    except Exception as exc:
        d.error("open", exc)
        sys.stderr.write("libpff_dump: %s: cannot open: %s\n" % (filename, one_line(exc)))
        return 1
    try:
        try:
            root = f.get_root_folder()
        except Exception as exc:
            root = None
            why = one_line(exc)
        else:
            why = "libpff found no root folder"
        if root is None:
            d.error("root", why)
            sys.stderr.write("libpff_dump: %s: %s\n" % (filename, why))
            return 1
        d.walk(root)
    finally:
        try:
            f.close()
        except Exception:
            pass
    return 0


def main(argv):
    args = [a for a in argv[1:] if a != "--pretty"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write("usage: libpff_dump.py [--pretty] FILE\n")
        return 2
    out = sys.stdout.buffer
    try:
        rc = dump(args[0], out, pretty="--pretty" in argv)
        out.flush()
    except BrokenPipeError:
        return 0
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
