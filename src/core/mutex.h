// Mutexes the thread-safety analysis understands (core/thread_annotations.h):
// std::mutex and std::shared_mutex carry no annotations in libstdc++, so state
// guarded by them cannot be checked. These wrap them one to one; the scoped
// locks below are how code takes them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "core/thread_annotations.h"

namespace tidal {

class TIDAL_CAPABILITY("mutex") Mutex {
 public:
  void lock() TIDAL_ACQUIRE() { mu_.lock(); }
  void unlock() TIDAL_RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class TIDAL_CAPABILITY("shared mutex") SharedMutex {
 public:
  void lock() TIDAL_ACQUIRE() { mu_.lock(); }
  void unlock() TIDAL_RELEASE() { mu_.unlock(); }
  void lock_shared() TIDAL_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() TIDAL_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex for its scope; waits on a condition variable with it.
class TIDAL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) TIDAL_ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() TIDAL_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Waits until `ready()` holds; the mutex is released while waiting and held
  // again when it returns. `ready` runs with the mutex held.
  template <typename Ready>
  void wait(std::condition_variable& cv, Ready ready) {
    cv.wait(lock_, ready);
  }
  // Waits at most `timeout` (or until notified).
  template <typename Rep, typename Period>
  void wait_for(std::condition_variable& cv, std::chrono::duration<Rep, Period> timeout) {
    cv.wait_for(lock_, timeout);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

// Holds a SharedMutex exclusively for its scope.
class TIDAL_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) TIDAL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() TIDAL_RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Holds a SharedMutex shared for its scope.
class TIDAL_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) TIDAL_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() TIDAL_RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace tidal
