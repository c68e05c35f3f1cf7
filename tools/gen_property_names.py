#!/usr/bin/env python3
"""Generates src/messaging/property_names.inc from tools/property_names.tsv.

The TSV holds the facts ([MS-OXPROPS] / [MS-PST] names, ids, types, property
set GUIDs); this script only validates them and lays them out as sorted C++
arrays that property_names.cpp searches with std::lower_bound:

  kPropertySets  by GUID bytes (on-disk order)
  kTags          by property id, the preferred name of each id first
  kTagsByName    indices into kTags (a name's first row), by lower-cased name
  kNamedLids     by (set, LID)
  kNamedStrings  by (set, lower-cased string name)
  kNamedByName   indices (bit 15 = kNamedStrings) by lower-cased name

Usage: python3 tools/gen_property_names.py tools/property_names.tsv > src/messaging/property_names.inc
"""
import sys

# MS-OXCDATA 2.11.1 property types. PtypEmbeddedTable shares 0x000D with PtypObject.
TYPES = {
    'PtypUnspecified': 0x0000, 'PtypNull': 0x0001, 'PtypInteger16': 0x0002, 'PtypInteger32': 0x0003,
    'PtypFloating32': 0x0004, 'PtypFloating64': 0x0005, 'PtypCurrency': 0x0006, 'PtypFloatingTime': 0x0007,
    'PtypErrorCode': 0x000A, 'PtypBoolean': 0x000B, 'PtypObject': 0x000D, 'PtypEmbeddedTable': 0x000D,
    'PtypInteger64': 0x0014, 'PtypString8': 0x001E, 'PtypString': 0x001F, 'PtypTime': 0x0040,
    'PtypGuid': 0x0048, 'PtypServerId': 0x00FB, 'PtypRestriction': 0x00FD, 'PtypRuleAction': 0x00FE,
    'PtypBinary': 0x0102,
}
for base in ['Integer16', 'Integer32', 'Floating32', 'Floating64', 'Currency', 'FloatingTime',
             'Integer64', 'String8', 'String', 'Time', 'Guid', 'Binary']:
    TYPES['PtypMultiple' + base] = 0x1000 | TYPES['Ptyp' + base]

# Which documentation wins when one property id carries several names.
SOURCE_RANK = {'MS-OXPROPS': 0, 'MS-PST': 1, 'MAPI': 2, 'MFCMAPI': 3, 'OpenChange': 4}


def fail(msg):
    sys.exit('gen_property_names: ' + msg)


def guid_bytes(text):
    """'{00062002-0000-0000-C000-000000000046}' -> 16 bytes as stored on disk."""
    h = text.strip('{}').split('-')
    if [len(p) for p in h] != [8, 4, 4, 4, 12]:
        fail('bad GUID ' + text)
    d1, d2, d3 = int(h[0], 16), int(h[1], 16), int(h[2], 16)
    return (list(d1.to_bytes(4, 'little')) + list(d2.to_bytes(2, 'little')) +
            list(d3.to_bytes(2, 'little')) + list(bytes.fromhex(h[3] + h[4])))


def c_string(s):
    if any(c in s for c in '"\\') or not s.isascii() or not s.isprintable():
        fail('unexpected character in ' + repr(s))
    return '"' + s + '"'


def main(path):
    sets, tags, lids, strs = [], [], [], []
    for lineno, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        if len(f) != 6:
            fail('%s:%d: expected 6 columns' % (path, lineno))
        kind, pset, key, ptype, name, source = f
        if source.split()[0] not in SOURCE_RANK:
            fail('%s:%d: unknown source %r' % (path, lineno, source))
        if kind == 'set':
            sets.append((pset, guid_bytes(key), key))
            continue
        if ptype not in TYPES:
            fail('%s:%d: unknown type %r' % (path, lineno, ptype))
        row = dict(set=pset, key=key, type=TYPES[ptype], name=name, source=source,
                   rank=SOURCE_RANK[source.split()[0]])
        if kind == 'tag':
            if pset or not name.startswith('PidTag'):
                fail('%s:%d: bad tag row' % (path, lineno))
            row['id'] = int(key, 16)
            if not 0 < row['id'] <= 0xFFFF:
                fail('%s:%d: bad property id' % (path, lineno))
            tags.append(row)
        elif kind == 'lid':
            row['lid'] = int(key, 16)
            lids.append(row)
        elif kind == 'str':
            strs.append(row)
        else:
            fail('%s:%d: unknown kind %r' % (path, lineno, kind))

    sets.sort(key=lambda s: s[1])
    set_index = {s[0]: i for i, s in enumerate(sets)}
    for r in lids + strs:
        if r['set'] not in set_index:
            fail('unknown property set ' + r['set'])
        r['set_index'] = set_index[r['set']]

    tags.sort(key=lambda r: (r['id'], r['rank'], r['source'], r['name']))
    lids.sort(key=lambda r: (r['set_index'], r['lid']))
    strs.sort(key=lambda r: (r['set_index'], r['key'].lower()))
    for a, b in zip(lids, lids[1:]):
        if (a['set_index'], a['lid']) == (b['set_index'], b['lid']):
            fail('duplicate LID %s %s' % (a['name'], b['name']))
    for a, b in zip(strs, strs[1:]):
        if (a['set_index'], a['key'].lower()) == (b['set_index'], b['key'].lower()):
            fail('duplicate string name %s %s' % (a['name'], b['name']))
    # A name may have rows for several types of its id (PidTagReplItemid is
    # PtypInteger32 in [MS-PST] and PtypBinary in the files Outlook writes);
    # kTagsByName indexes its first row.
    first_row = {}
    for i, r in enumerate(tags):
        key = r['name'].lower()
        if key in first_row and tags[first_row[key]]['id'] != r['id']:
            fail('duplicate name ' + r['name'])
        first_row.setdefault(key, i)
    tag_names = sorted(first_row.values(), key=lambda i: tags[i]['name'].lower())
    named = [(r['name'], i) for i, r in enumerate(lids)] + [(r['name'], 0x8000 | i) for i, r in enumerate(strs)]
    named.sort(key=lambda p: p[0].lower())
    for names in ([tags[i]['name'] for i in tag_names], [n for n, _ in named]):
        for a, b in zip(names, names[1:]):
            if a.lower() == b.lower():
                fail('duplicate name ' + a)
    if len(tags) >= 0x8000 or len(lids) >= 0x8000 or len(strs) >= 0x8000:
        fail('table too large for 16-bit indices')

    out = sys.stdout
    out.write('// Generated by tools/gen_property_names.py from tools/property_names.tsv. Do not edit.\n')
    out.write('// %d property sets, %d tagged names, %d LID names, %d string names.\n\n' %
              (len(sets), len(tags), len(lids), len(strs)))
    for name, _, _ in sets:
        out.write('constexpr uint8_t kSet_%s = %d;\n' % (name, set_index[name]))
    out.write('\n// Sorted by GUID bytes as stored on disk.\nconstexpr PropertySetInfo kPropertySets[] = {\n')
    for name, b, text in sets:
        out.write('    {{{%s}}, "%s"},  // %s\n' % (', '.join('0x%02X' % x for x in b), name, text))
    out.write('};\n\n// Sorted by id; the first row of an id is its preferred name.\nconstexpr TagInfo kTags[] = {\n')
    for r in tags:
        out.write('    {0x%04X, 0x%04X, %s},  // %s\n' % (r['id'], r['type'], c_string(r['name']), r['source']))
    out.write('};\n\nconstexpr uint16_t kTagsByName[] = {\n')
    for i in range(0, len(tag_names), 12):
        out.write('    ' + ', '.join(str(x) for x in tag_names[i:i + 12]) + ',\n')
    out.write('};\n\nconstexpr NamedLidEntry kNamedLids[] = {\n')
    for r in lids:
        out.write('    {kSet_%s, 0x%04X, 0x%04X, %s},  // %s\n' %
                  (r['set'], r['type'], r['lid'], c_string(r['name']), r['source']))
    out.write('};\n\nconstexpr NamedStringEntry kNamedStrings[] = {\n')
    for r in strs:
        out.write('    {kSet_%s, 0x%04X, %s, %s},  // %s\n' %
                  (r['set'], r['type'], c_string(r['key']), c_string(r['name']), r['source']))
    out.write('};\n\n// Bit 15 set: index into kNamedStrings, else into kNamedLids.\n')
    out.write('constexpr uint16_t kNamedByName[] = {\n')
    idx = [str(i) for _, i in named]
    for i in range(0, len(idx), 12):
        out.write('    ' + ', '.join(idx[i:i + 12]) + ',\n')
    out.write('};\n')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
