/* OpenBLAS kernel selection, fixed once at load.

   A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernels from the CPU's family and
   model numbers at load. A CPU newer than the library (Debian 12's 0.3.21 on an
   Intel Xeon of model 207, say) is not in its table, and OpenBLAS then falls back
   to its SSE3 "Prescott" kernels: 5-9x slower GEMMs on a CPU with AVX-512, with no
   message. This constructor runs after OpenBLAS's own (a library's constructors
   run before those of what links it, and before main). If OpenBLAS fell back to
   Prescott but the CPU and OS support AVX2 + FMA or AVX-512 (checked with the
   compiler's cpuid builtins, which include the OS's XSAVE state), it re-runs
   OpenBLAS's selection with OPENBLAS_CORETYPE set to the matching kernels
   (SkylakeX or Haswell) and then restores the environment, so child processes
   choose for themselves. A user's own OPENBLAS_CORETYPE is always respected, and
   nothing happens with a non-DYNAMIC_ARCH OpenBLAS (the symbols are weak).

   It also shortens how long OpenBLAS's idle pool threads spin (sched_yield in a
   loop) after a multi-threaded call before they sleep: 2^28 cycles (~0.1 s) by
   default, 2^18 (~0.1 ms) here. The neural engine runs its own worker per core
   with single-threaded BLAS; a pool thread still spinning from an earlier
   multi-threaded GEMM takes a core from them (measured: 20 Lanczos iterations
   1.18 s with the default spin, 0.85 s with a short one). A user's own
   OPENBLAS_THREAD_TIMEOUT is kept. */
#include "blas_runtime.h"
#include <stdlib.h>
#include <string.h>

extern char *openblas_get_corename(void);
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_init(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* log2 of the pool threads' spin, in cycles (OpenBLAS clamps it to 4...30). */
#define AEOS_THREAD_TIMEOUT "18"
static int timeout_shortened = 0;

static void shorten_thread_spin(void) {
  if (getenv("OPENBLAS_THREAD_TIMEOUT") != NULL) return;
  if (!openblas_read_env || !blas_thread_init || !blas_thread_shutdown_) return;
  /* No BLAS call can be in flight: this runs before main. The pool is rebuilt
     with the new timeout, which OpenBLAS reads when it starts its threads. */
  setenv("OPENBLAS_THREAD_TIMEOUT", AEOS_THREAD_TIMEOUT, 1);
  openblas_read_env();
  blas_thread_shutdown_();
  blas_thread_init();
  unsetenv("OPENBLAS_THREAD_TIMEOUT");
  openblas_read_env();
  timeout_shortened = 1;
}

static char detected_name[32] = "";
static int replaced = 0;

static const char *cpu_level(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("fma"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  if (__builtin_cpu_supports("avx")) return "avx";
  return "sse";
#else
  return "other";
#endif
}

static void copy_name(char *dst, const char *src) {
  strncpy(dst, src ? src : "", 31);
  dst[31] = 0;
}

static void select_core(void);

__attribute__((constructor)) static void aeos_blas_configure(void) {
  copy_name(detected_name, openblas_get_corename());
  select_core();
  shorten_thread_spin();
}

static void select_core(void) {
  if (getenv("OPENBLAS_CORETYPE") != NULL) return;
  if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
  if (strcmp(detected_name, "Prescott") != 0) return;
  const char *level = cpu_level();
  const char *core = NULL;
  if (strcmp(level, "avx512") == 0) core = "SkylakeX";
  else if (strcmp(level, "avx2") == 0) core = "Haswell";
  if (core == NULL) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  replaced = strcmp(detected_name, openblas_get_corename()) != 0;
}

aeos_blas_core aeos_blas_core_info(void) {
  aeos_blas_core info;
  info.detected = detected_name;
  info.selected = openblas_get_corename();
  info.replaced = replaced;
  info.cpu_level = cpu_level();
  info.thread_spin_shortened = timeout_shortened;
  return info;
}
