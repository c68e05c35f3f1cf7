#!/usr/bin/python3
"""Generates a large, deterministic mail set for the import benchmark.

Usage: make_mailset.py OUT.mbox MESSAGES [--attach-every N] [--attach-kb KB]

Writes an mbox (mboxrd "From " separators) of MESSAGES messages: varied
subjects and bodies, plain and HTML alternatives, To/Cc recipients, a few
non-ASCII headers, and every N-th message one base64 attachment of about KB
KiB (random bytes, so the data does not compress away). Streams to disk:
memory stays flat however large the set.
"""

import argparse
import base64
import random
import sys
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

WORDS = ("meeting budget project review deadline customer report quarter schedule design "
         "release invoice contract team update draft forecast travel agenda minutes").split()
NAMES = ["Alice Martin", "Bob Chen", "Chloé Dubois", "Dmitri Ivanov", "Eve Schäfer", "Fumiko Sato"]


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def address(name):
    return name.split()[0].lower().encode("ascii", "ignore").decode() + "@example.com"


def encode_name(name):
    if name.isascii():
        return f'"{name}"'
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def message(rng, i, attach_every, attach_kb):
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    date = start + timedelta(minutes=7 * i)
    sender = NAMES[i % len(NAMES)]
    to = NAMES[(i + 1) % len(NAMES)]
    cc = NAMES[(i + 2) % len(NAMES)]
    subject = f"Message {i}: {sentence(rng, 5)}"
    if i % 10 == 0:
        subject = "=?utf-8?q?R=C3=A9union_" + str(i) + "?="
    body = "\n".join(sentence(rng, 12) + "." for _ in range(8 + i % 24))
    boundary_alt = f"alt-{i}"
    parts = [
        f"--{boundary_alt}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n",
        f"--{boundary_alt}\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>{body}</p></body></html>\n",
        f"--{boundary_alt}--\n",
    ]
    alternative = "".join(parts)
    headers = (f"From: {encode_name(sender)} <{address(sender)}>\n"
               f"To: {encode_name(to)} <{address(to)}>\n"
               f"Cc: {encode_name(cc)} <{address(cc)}>\n"
               f"Subject: {subject}\n"
               f"Date: {format_datetime(date)}\n"
               f"Message-ID: <m{i}@bench.example.com>\n"
               "MIME-Version: 1.0\n")
    if attach_every and i % attach_every == 0:
        data = rng.randbytes(attach_kb * 1024 + i % 1000)
        b64 = base64.encodebytes(data).decode()
        mixed = f"mixed-{i}"
        return (headers + f'Content-Type: multipart/mixed; boundary="{mixed}"\n\n'
                f'--{mixed}\nContent-Type: multipart/alternative; boundary="{boundary_alt}"\n\n{alternative}'
                f'--{mixed}\nContent-Type: application/octet-stream; name="data-{i}.bin"\n'
                f'Content-Disposition: attachment; filename="data-{i}.bin"\n'
                f"Content-Transfer-Encoding: base64\n\n{b64}--{mixed}--\n")
    return headers + f'Content-Type: multipart/alternative; boundary="{boundary_alt}"\n\n' + alternative


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("messages", type=int)
    ap.add_argument("--attach-every", type=int, default=2)
    ap.add_argument("--attach-kb", type=int, default=64)
    args = ap.parse_args()
    rng = random.Random(20261121)
    total = 0
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for i in range(args.messages):
            text = message(rng, i, args.attach_every, args.attach_kb)
            # mboxrd: quote body lines that look like separators.
            text = "\n".join((">" + l) if l.lstrip(">").startswith("From ") else l for l in text.split("\n"))
            chunk = f"From bench@example.com Mon Jan  1 00:00:00 2024\n{text}\n"
            out.write(chunk)
            total += len(chunk)
    print(f"{args.messages} messages, {total / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
