// Reads .msg files with @kenjiuno/msgreader (an independent MSG reader) and
// prints one JSON line per file: subject, body, HTML length, recipients and
// attachments (name, size, SHA-256; embedded messages read recursively).
// Used by test_export_msg.py. Usage: node msgreader_dump.js FILE...
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const MsgReader = require('@kenjiuno/msgreader').default;

function describe(reader, info) {
  const out = {
    subject: info.subject || '',
    body: info.body || '',
    html: info.html ? info.html.length : (info.bodyHtml ? info.bodyHtml.length : 0),
    recipients: (info.recipients || []).map(r => ({name: r.name || '', email: r.email || r.smtpAddress || '',
                                                   type: r.recipType || ''})),
    attachments: [],
  };
  for (const a of info.attachments || []) {
    if (a.innerMsgContent) {
      out.attachments.push({embedded: true, name: a.name || '', message: describe(reader, a.innerMsgContentFields)});
      continue;
    }
    const got = reader.getAttachment(a);
    const bytes = Buffer.from(got.content || []);
    out.attachments.push({name: a.fileName || a.name || '', size: bytes.length,
                          sha256: crypto.createHash('sha256').update(bytes).digest('hex')});
  }
  return out;
}

for (const file of process.argv.slice(2)) {
  try {
    const data = fs.readFileSync(file);
    const reader = new MsgReader(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
    const info = reader.getFileData();
    if (info.error) throw new Error(info.error);
    console.log(JSON.stringify({file, message: describe(reader, info)}));
  } catch (e) {
    console.log(JSON.stringify({file, error: String(e && e.stack || e)}));
  }
}
