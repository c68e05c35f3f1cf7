// An RTF body as HTML and text: what an export shows for a message whose
// only formatted body is PidTagRtfCompressed.
//
// Outlook keeps HTML and plain-text mail it converted to RTF in a form that
// gives the original back ([MS-OXRTFEX] 2.1.3.1: \fromhtml1 and \fromtext
// documents); such a body is de-encapsulated exactly. Other RTF (written in
// RTF, e.g. by Outlook's RTF editor or Word) is rendered to simple HTML:
// paragraphs and line breaks, bold, italic, underline; pictures and
// objects are left out.
//
// Input is the decompressed RTF (pstkit/rtf.h). Every read is bounds
// checked and the output capped; malformed RTF gives what could be read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pstkit/status.h"

namespace pstkit::rtf {

enum class RtfOrigin : uint8_t {
  kRtf,   // written in RTF: rendered
  kHtml,  // \fromhtml1: the encapsulated HTML
  kText,  // \fromtext: the encapsulated plain text
};

struct RtfBody {
  RtfOrigin origin = RtfOrigin::kRtf;
  // UTF-8 HTML: the encapsulated document for kHtml, a rendering otherwise
  // (for kText, the text in <pre>).
  std::string html;
  // UTF-8 plain text of the body (the encapsulated text for kText; for
  // kHtml empty: the HTML is the body).
  std::string text;
};

// Fails only on what is not RTF at all (no "{\rtf" at the start).
// `default_codepage` applies to 8-bit text when the document names no
// \ansicpg.
Result<RtfBody> rtf_to_html(std::string_view rtf, uint32_t default_codepage = 1252);

}  // namespace pstkit::rtf
