#pragma once
// Scratch arena: keeps big short-lived allocations out of the agent's heap.
//
// Parsing a config with thousands of targets builds a YAML tree of ~3 KB of
// nodes per target, then the long-lived config objects are built from it.
// In one malloc arena the two interleave, and when the tree is freed it
// leaves megabytes of small holes between live objects: resident memory no
// later allocation reuses (measured with 5,000 targets: ~9 MB, see
// docs/benchmarks.md). glibc gives each new thread an arena of its own (and
// hands a finished thread's arena to the next new thread), so work run with
// RunInScratchArena allocates in that arena; once everything it allocated
// has been freed (by any thread), ReleaseScratchArena returns the arena's
// memory to the kernel in one piece. glibc only trims a thread arena when a
// large block is freed into it, which ReleaseScratchArena does on purpose.
//
// With MALLOC_ARENA_MAX=1 (or another allocator) both still work; the
// memory then simply is not kept apart.

#include <functional>

namespace calprobe::core {

// Runs fn on a short-lived thread and waits for it; exceptions propagate.
void RunInScratchArena(const std::function<void()>& fn);

// Gives the scratch arena's free memory back to the kernel. Call after the
// results of RunInScratchArena work (e.g. YAML trees) have been destroyed.
void ReleaseScratchArena();

}  // namespace calprobe::core
