// The checker's finding codes as an enum, each with its stable name and
// severity (the table in include/pstkit/check.h).
#pragma once

#include "pstkit/check.h"

namespace pstkit::check {

enum class Issue {
  kHeaderTruncated,
  kHeaderCrcPartial,
  kHeaderCrcFull,
  kHeaderClientMagic,
  kHeaderSentinel,
  kHeaderCrypt,
  kHeaderRoot,
  kHeaderFileEof,
  kFileTail,
  kHeaderAmapLast,
  kHeaderAmapValid,
  kHeaderFmap,
  kHeaderBidNext,
  kHeaderNidNext,
  kFileUnreadable,
  kPageOutOfFile,
  kPageType,
  kPageCrc,
  kPageSignature,
  kPageBid,
  kBtreeFormat,
  kBtreeLevel,
  kBtreeOrder,
  kBtreeBranchKey,
  kBtreeCycle,
  kBlockOutOfFile,
  kBlockAlignment,
  kBlockSize,
  kBlockTrailer,
  kBlockSignature,
  kBlockCrc,
  kBlockInflate,
  kBlockOverlap,
  kBidMissing,
  kRefcountLow,
  kRefcountHigh,
  kBlockOrphan,
  kDataTree,
  kSubnodeTree,
  kAmapPage,
  kAmapMismatch,
  kAmapLeak,
  kAmapFreeTotal,
  kDlistPage,
  kDlistEntry,
  kNodeRequired,
  kNbtParent,
  kNodeData,
  kHn,
  kBth,
  kPc,
  kPcValue,
  kTc,
  kTcRows,
  kTcCell,
  kFolderTable,
  kFolderHierarchy,
  kFolderContents,
  kFolderUnlisted,
  kSearchQueue,
  kCheckLimit,
  kCount,  // not a code
};

const CodeInfo& issue_info(Issue issue);

}  // namespace pstkit::check
