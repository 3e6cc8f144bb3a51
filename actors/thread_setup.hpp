// actors/thread_setup.hpp -- per-thread settings for detached actors.
// A detached actor keeps its OS thread for life, so affinity and nice level
// set at its start stay with it.
#pragma once

namespace stenotype {

/// Pins the calling thread to CPU `cpu` modulo the CPUs we may use. Failure is
/// logged, not fatal (e.g. in a restricted cpuset).
void pin_current_thread(int cpu);

/// Sets the calling thread's nice level (Linux: per thread).
void set_current_thread_nice(int level);

/// Sets the calling thread's I/O priority class to idle (Linux: per
/// thread): its disk requests wait while anyone else's are queued. Returns
/// false (and logs) if the kernel refuses.
bool set_current_thread_idle_io_priority();

/// Names the calling thread (visible in top -H, perf).
void name_current_thread(const char* name);

} // namespace stenotype
