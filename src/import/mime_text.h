// Text handling for MIME import: charsets to UTF-8, subject prefixes,
// line endings, and plain text derived from HTML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pstkit/bytes.h"

namespace pstkit::mime {

// Decodes a text part's bytes, named by its MIME charset parameter, to UTF-8.
// A missing, "us-ascii" or unknown-8bit label on 8-bit text means the text is
// UTF-8 if it validates as UTF-8, else in fallback_codepage; a "utf-8" label
// on text that is not UTF-8 means fallback_codepage too (a common mislabel);
// an unknown charset goes through iconv and, failing that, the fallback.
// *codepage receives the code page the text was read as (65001 for UTF-8).
std::string decode_charset(std::string_view bytes, std::string_view charset, uint32_t fallback_codepage,
                           uint32_t* codepage = nullptr, bool* used_fallback = nullptr);

// GMime 3.2.13 decodes a run of adjacent RFC 2047 encoded words in one
// charset by joining their encoded texts first, so a base64 word ending in
// '=' padding ends the decoding and every later word of the run is lost
// ("=?iso-2022-jp?b?GyRCJTMlYBsoQg==?= =?iso-2022-jp?b?GyRCRUIbKEI=?=" reads
// as "コム" instead of "コム殿"). This rewrites each such run (words separated
// only by blanks and line folds, RFC 2047 6.2) as one base64 word holding
// the run's decoded bytes in the same charset; GMime decodes that correctly,
// and stateful charsets such as ISO-2022-JP are converted as one sequence.
// nullopt when the value has no run of two or more words.
std::optional<std::string> merge_encoded_word_runs(std::string_view raw_value);

// Header bytes that were not RFC 2047 encoded: UTF-8 if valid, else the
// fallback code page.
std::string decode_8bit_header(std::string_view bytes, uint32_t fallback_codepage);

// [MS-OXCMAIL] 2.2.3.2.6.1: a subject starting with one to three characters
// other than colon, blank and digits, then a colon and blanks, has that
// prefix ("RE: ") split off; the rest is the normalized subject.
struct SplitSubject {
  std::string prefix;      // "" or e.g. "RE: "
  std::string normalized;
};
SplitSubject split_subject(std::string_view subject);

// Bare LF and bare CR line ends become CRLF, as Outlook stores text.
std::string to_crlf(std::string_view text);

// A readable plain-text rendering of HTML (tags dropped, block elements as
// line breaks, entities decoded, script and style skipped), for PidTagBody
// of messages that only have an HTML body, as Outlook derives one.
std::string html_to_text(std::string_view html);

// Collapses folding whitespace (CR, LF, tabs, runs of blanks) and trims.
std::string unfold(std::string_view value);

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string to_lower(std::string_view s);

}  // namespace pstkit::mime
