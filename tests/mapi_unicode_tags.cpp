// Compiled with UNICODE defined (CMakeLists.txt): the TCHAR forms of pstkit's
// MAPI headers are the wide ones, as code written for Outlook's MAPI with
// UNICODE expects. mapi_headers_test.cpp checks the 8-bit forms.
#include <mapix.h>
#include <mapiutil.h>

static_assert(PR_DISPLAY_NAME == PR_DISPLAY_NAME_W, "PR_* TCHAR names are wide under UNICODE");
static_assert(PR_SUBJECT == PR_SUBJECT_W);
static_assert(PT_TSTRING == PT_UNICODE);
static_assert(sizeof(TCHAR) == sizeof(wchar_t));
