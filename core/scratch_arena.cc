#include "core/scratch_arena.h"

#include <malloc.h>

#include <cstdlib>
#include <exception>
#include <thread>

namespace calprobe::core {

void RunInScratchArena(const std::function<void()>& fn) {
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
}

void ReleaseScratchArena() {
  RunInScratchArena([] {
    // A large request consolidates the arena's small free chunks into its
    // top chunk; freeing a block of 64 KiB or more then makes glibc trim
    // that top chunk (heap_trim), i.e. give it back to the kernel. Below
    // the mmap threshold (agent: 1 MiB), so it comes from the arena itself.
    void* p = std::malloc(256 * 1024);
    // Keep the compiler from eliding the pair.
    asm volatile("" : : "r"(p) : "memory");
    std::free(p);
  });
  malloc_trim(0);
}

}  // namespace calprobe::core
