// Clang's thread-safety analysis (-Wthread-safety): annotations that say which
// mutex guards which state and which functions need it held, so the compiler
// checks lock discipline. They expand to nothing under other compilers. The
// fuzz build (clang, scripts/fuzz.sh) compiles with -Wthread-safety -Werror,
// and make test runs it.
#pragma once

#if defined(__clang__)
#define TIDAL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TIDAL_THREAD_ANNOTATION(x)
#endif

#define TIDAL_CAPABILITY(x) TIDAL_THREAD_ANNOTATION(capability(x))
#define TIDAL_SCOPED_CAPABILITY TIDAL_THREAD_ANNOTATION(scoped_lockable)
#define TIDAL_GUARDED_BY(x) TIDAL_THREAD_ANNOTATION(guarded_by(x))
#define TIDAL_PT_GUARDED_BY(x) TIDAL_THREAD_ANNOTATION(pt_guarded_by(x))
#define TIDAL_ACQUIRED_BEFORE(...) TIDAL_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define TIDAL_REQUIRES(...) TIDAL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TIDAL_REQUIRES_SHARED(...) TIDAL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define TIDAL_ACQUIRE(...) TIDAL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TIDAL_ACQUIRE_SHARED(...) TIDAL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define TIDAL_RELEASE(...) TIDAL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TIDAL_RELEASE_SHARED(...) TIDAL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TIDAL_RELEASE_GENERIC(...) TIDAL_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TIDAL_EXCLUDES(...) TIDAL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define TIDAL_RETURN_CAPABILITY(x) TIDAL_THREAD_ANNOTATION(lock_returned(x))
#define TIDAL_NO_THREAD_SAFETY_ANALYSIS TIDAL_THREAD_ANNOTATION(no_thread_safety_analysis)
