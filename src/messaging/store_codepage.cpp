// The code page of an ANSI store that records none (Store::infer_codepage).
//
// ANSI PSTs keep every string as 8-bit text in the ANSI code page of the
// Windows that wrote it, and the message store often does not say which.
// Items usually do (PidTagMessageCodepage, PidTagInternetCodepage), so the
// most common code page of a sample of items is the store's; when no item
// names one, the sampled 8-bit strings themselves are run through charset
// detection. The sample is bounded (folders, messages, bytes) so that
// opening a large store costs milliseconds, not a walk of the file.
#include <algorithm>
#include <deque>
#include <map>

#include "pstkit/codepage.h"
#include "pstkit/messaging.h"

namespace pstkit {
namespace {

constexpr size_t kMaxFolders = 128;
constexpr size_t kMaxMessages = 256;
constexpr size_t kMaxMessagesPerFolder = 32;
constexpr size_t kMaxSampleBytes = size_t{64} << 10;
constexpr size_t kMaxBytesPerString = 2048;

class CodepageSampler {
 public:
  explicit CodepageSampler(const Store& store) : store_(store) {}

  void run() {
    std::deque<Nid> folders{ndb::kNidRootFolder};
    size_t visited = 0;
    while (!folders.empty() && visited < kMaxFolders && messages_ < kMaxMessages) {
      const Nid folder = folders.front();
      folders.pop_front();
      ++visited;
      strings_of(folder);
      for (Nid child : row_ids(ndb::make_nid(ndb::kNidTypeHierarchyTable, ndb::nid_index(folder)), kMaxFolders))
        folders.push_back(child);
      for (Nid message : row_ids(ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(folder)),
                                 kMaxMessagesPerFolder)) {
        if (messages_ >= kMaxMessages) break;
        ++messages_;
        std::vector<PropValue> values = strings_of(message);
        if (auto cp = Store::own_codepage(values); cp) ++votes_[*cp];
      }
    }
  }

  std::pair<uint32_t, CodepageSource> result(uint32_t fallback) const {
    uint32_t best = 0;
    size_t best_votes = 0;
    for (const auto& [cp, n] : votes_) {
      if (n > best_votes) {
        best = cp;
        best_votes = n;
      }
    }
    if (best_votes > 0) return {best, CodepageSource::kItems};
    if (auto cp = detect_codepage(ByteView(sample_))) return {*cp, CodepageSource::kBytes};
    return {fallback, CodepageSource::kDefault};
  }

 private:
  // Up to `limit` row ids of a table; none if it cannot be read.
  std::vector<Nid> row_ids(Nid table_nid, size_t limit) const {
    std::vector<Nid> out;
    auto node = store_.db().open_node(table_nid);
    if (!node) return out;
    auto tc = store_.open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
    if (!tc) return out;
    for (size_t i = 0; i < tc->row_count() && out.size() < limit; ++i) {
      if (auto id = tc->row_id(i)) out.push_back(*id);
    }
    return out;
  }

  // Reads an object's code page properties and its 8-bit strings; adds the
  // strings that are not ASCII to the sample. Returns the code page values.
  std::vector<PropValue> strings_of(Nid nid) {
    std::vector<PropValue> codepages;
    auto node = store_.db().open_node(nid);
    if (!node) return codepages;
    auto pc = store_.open_pc(std::shared_ptr<const ndb::Node>(std::move(*node)));
    if (!pc) return codepages;
    for (const auto& e : (*pc)->entries()) {
      if (e.id == prop::kMessageCodepage || e.id == prop::kInternetCodepage) {
        if (auto v = (*pc)->get(e.id)) codepages.push_back(std::move(*v));
        continue;
      }
      if (e.type != ltp::kPtypString8 || sample_.size() >= kMaxSampleBytes) continue;
      auto v = (*pc)->get(e.id);
      if (!v) continue;
      size_t n = std::min(v->data.size(), kMaxBytesPerString);
      // Cut where a DBCS character cannot be split: before the last run of
      // high bytes, unless the whole value fits.
      if (n < v->data.size())
        while (n > 0 && (v->data[n - 1] & 0x80)) --n;
      while (n > 0 && v->data[n - 1] == 0) --n;
      bool high = false;
      for (size_t i = 0; i < n && !high; ++i) high = (v->data[i] & 0x80) != 0;
      if (!high) continue;
      sample_.insert(sample_.end(), v->data.begin(), v->data.begin() + ptrdiff_t(n));
      sample_.push_back('\n');
    }
    return codepages;
  }

  const Store& store_;
  size_t messages_ = 0;
  std::map<uint32_t, size_t> votes_;
  Bytes sample_;
};

}  // namespace

std::pair<uint32_t, CodepageSource> Store::infer_codepage() const {
  CodepageSampler sampler(*this);
  sampler.run();
  return sampler.result(options_.default_codepage);
}

}  // namespace pstkit
