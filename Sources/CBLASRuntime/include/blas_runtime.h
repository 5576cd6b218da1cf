#ifndef AEOS_BLAS_RUNTIME_H
#define AEOS_BLAS_RUNTIME_H

/* Which OpenBLAS kernels this process runs, and whether the load-time check below
   replaced OpenBLAS's own choice. */
typedef struct {
  /* OpenBLAS's own choice at load (openblas_get_corename), e.g. "Prescott". */
  const char *detected;
  /* The kernels in use now, e.g. "SkylakeX". */
  const char *selected;
  /* 1 if `selected` replaced `detected`. */
  int replaced;
  /* What the CPU and OS support, the best first: "avx512", "avx2", "avx" or "sse". */
  const char *cpu_level;
  /* 1 if the idle pool threads' spin was shortened at load. */
  int thread_spin_shortened;
} aeos_blas_core;

aeos_blas_core aeos_blas_core_info(void);

#endif
