#include "mapi/open_stores.h"

#include <mutex>
#include <vector>

namespace pstkit::mapi::capi {
namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::weak_ptr<StoreState>>& registry() {
  static std::vector<std::weak_ptr<StoreState>> stores;
  return stores;
}

}  // namespace

void register_open_store(const std::shared_ptr<StoreState>& state) {
  std::lock_guard lock(registry_mutex());
  auto& stores = registry();
  std::erase_if(stores, [](const std::weak_ptr<StoreState>& s) { return s.expired(); });
  stores.push_back(state);
}

void for_each_open_store(const std::function<void(const std::shared_ptr<StoreState>&)>& fn) {
  std::vector<std::shared_ptr<StoreState>> live;
  {
    std::lock_guard lock(registry_mutex());
    for (const auto& weak : registry())
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (const auto& s : live) fn(s);
}

}  // namespace pstkit::mapi::capi
