// tests/support/sanitizers.hpp — GRACE_TEST_ASAN: 1 in an AddressSanitizer
// build (g++ defines __SANITIZE_ADDRESS__, clang answers __has_feature), else
// 0; GRACE_TEST_TSAN: 1 in a ThreadSanitizer build (which defines GRACE_TSAN:
// CMakeLists.txt), else 0.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define GRACE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRACE_TEST_ASAN 1
#endif
#endif
#if !defined(GRACE_TEST_ASAN)
#define GRACE_TEST_ASAN 0
#endif
#if defined(GRACE_TSAN) && GRACE_TSAN
#define GRACE_TEST_TSAN 1
#else
#define GRACE_TEST_TSAN 0
#endif
