// bench/impls.cpp — the registry of implementations (see impls.hpp).  A peer
// whose library was not found at build time is left out, and said so.
#include "impls.hpp"

#include "hash_impls.hpp"

namespace gb {

const std::vector<const gb_impl*>& compiled_impls() {
  static const std::vector<const gb_impl*> impls = {
      &gb_impl_grace,
#ifdef GRACE_BENCH_HAVE_URCU_MEMB
      &gb_impl_urcu_memb,
#endif
#ifdef GRACE_BENCH_HAVE_URCU_QSBR
      &gb_impl_urcu_qsbr,
#endif
#ifdef GRACE_BENCH_HAVE_URCU_MB
      &gb_impl_urcu_mb,
#endif
#ifdef GRACE_BENCH_HAVE_CK
      &gb_impl_ck_epoch,
#endif
      &gb_impl_shared_mutex,
  };
  return impls;
}

std::vector<std::string> skipped_impls() {
  std::vector<std::string> out;
#ifndef GRACE_BENCH_HAVE_URCU_MEMB
  out.emplace_back("liburcu (liburcu-memb not found: install liburcu-dev)");
#endif
#ifndef GRACE_BENCH_HAVE_URCU_QSBR
  out.emplace_back("liburcu_qsbr (liburcu-qsbr not found: install liburcu-dev)");
#endif
#ifndef GRACE_BENCH_HAVE_URCU_MB
  out.emplace_back("liburcu_mb (liburcu-mb not found: install liburcu-dev)");
#endif
#ifndef GRACE_BENCH_HAVE_CK
  out.emplace_back("ck_epoch (libck not found: install libck-dev)");
#endif
  return out;
}

std::string peers_description() {
  std::string s;
  for (const gb_impl* i : compiled_impls()) {
    if (std::string(i->name) == "grace") continue;
    s += (s.empty() ? "" : ", ") + std::string(i->name);
  }
#ifdef GRACE_BENCH_URCU_VERSION
  s += " (liburcu " GRACE_BENCH_URCU_VERSION ")";
#endif
  s += "; hash maps:";
  for (const gb_hash_impl* i : hash_impls()) {
    if (std::string(i->name) == "grace") continue;
    s += ' ';
    s += i->name;
  }
  auto skipped = skipped_impls();
  for (auto& k : skipped_hash_impls()) skipped.push_back(k);
  if (!skipped.empty()) {
    s += "; skipped:";
    for (const auto& k : skipped) s += " " + k + ";";
  }
  return s;
}

}  // namespace gb
